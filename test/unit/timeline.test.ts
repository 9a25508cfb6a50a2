/**
 * The timeline fold (`ops/timeline.ts`) over a hand-written log with what real runs rarely show
 * all at once: a step attempt that timed out, an attempt started again after its worker was lost,
 * an event wait that timed out, a restart that keeps a hook (the attempt in flight interrupted,
 * the hook listening on into the next generation), and an attempt cut short by the run's end.
 */
import { describe, expect, it } from "vitest";
import { StepTimeoutError } from "../../src/errors/step.ts";
import { PayloadView } from "../../src/ops/payload-view.ts";
import { buildTimeline } from "../../src/ops/timeline.ts";
import { encodeValue } from "../../src/serde/codec.ts";
import { keyringFromEnv } from "../../src/serde/keys.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import { eventPlace } from "../../src/serde/places.ts";
import type { EventDataMap, EventRecord, EventType } from "../../src/world/events.ts";
import type { RunRecord } from "../../src/world/types.ts";

const codec = createPayloadCodec({ keyring: keyringFromEnv({}) });
const run = {
  runId: "wrun_t",
  workflowName: "workflow//w.ts//w",
  status: "completed",
  seq: 0,
  specVersion: 5,
  seed: "s",
  encrypted: false,
  payloadBytes: 0,
  input: new Uint8Array(),
  createdAt: 0,
  updatedAt: 0,
  wakePending: false,
} as RunRecord;

const log: EventRecord[] = [];
function add<K extends EventType>(type: K, data: EventDataMap[K], at: number, value?: unknown): void {
  const event = { runId: run.runId, seq: log.length + 1, type, data, createdAt: at } as EventRecord;
  if (value !== undefined) event.payload = codec.encode(run, eventPlace(event), encodeValue(value));
  log.push(event);
}

describe("buildTimeline", () => {
  it("folds timeouts, lost workers, timed-out waits, a restart that keeps a hook and the run's end", () => {
    const timeout = new StepTimeoutError({ runId: run.runId, stepName: "slow", attempt: 1 }, 50);
    add("run_created", { workflowName: run.workflowName, seed: "s", specVersion: 5 }, 1000, ["in"]);
    add("run_started", {}, 1001);
    add("step_started", { stepId: "s1", stepName: "slow", attempt: 1 }, 1010, ["arg"]);
    add("step_retrying", { stepId: "s1", attempt: 1, retryAt: 1200 }, 1060, timeout);
    add("step_started", { stepId: "s1", stepName: "slow", attempt: 2 }, 1200);
    add("step_started", { stepId: "s1", stepName: "slow", attempt: 2 }, 1500);
    add("hook_created", { hookId: "h1", token: "tok", kind: "hook" }, 1510);
    add("event_wait_created", { waitId: "w1", eventType: "go", timeoutAt: 1600 }, 1520);
    add("event_wait_timed_out", { waitId: "w1" }, 1600);
    add("run_cancelled", { reason: "restart" }, 1700);
    add("run_restarted", { generation: 2, fromCall: 1, step: "slow", hooks: ["h1"] }, 1701);
    add("step_started", { stepId: "s2", stepName: "fast", attempt: 1 }, 1710, [1]);
    add("hook_received", { hookId: "h1", inboxId: "i1" }, 1800);
    add("run_completed", {}, 1900, { done: true });

    const timeline = buildTimeline(run, log, new PayloadView(codec, {}));
    expect(timeline.input).toEqual(["in"]);
    expect(timeline.output).toEqual({ done: true });
    expect(timeline.generations).toEqual([
      { generation: 1, startedAt: 1000 },
      { generation: 2, startedAt: 1701, fromStep: "slow" },
    ]);
    const [slow, fast] = timeline.steps;
    expect(
      slow?.attempts.map((a) => [a.attempt, a.generation, a.outcome, a.startedAt, a.endedAt, a.retryAt]),
    ).toEqual(
      [
        [1, 1, "timed_out", 1010, 1060, 1200],
        [2, 1, "interrupted", 1200, 1500],
        [2, 1, "interrupted", 1500, 1700],
      ].map((row) => (row.length === 5 ? [...row, null] : row)),
    );
    expect(slow?.attempts[0]?.error).toBeInstanceOf(Error);
    expect(slow?.input).toEqual(["arg"]);
    expect(fast?.attempts).toEqual([
      { attempt: 1, generation: 2, startedAt: 1710, endedAt: 1900, outcome: "interrupted", retryAt: null },
    ]);
    expect(timeline.waits).toEqual([
      expect.objectContaining({
        kind: "hook",
        id: "h1",
        token: "tok",
        startedAt: 1510,
        endedAt: 1800,
        outcome: "completed",
        received: [1800],
      }),
      expect.objectContaining({
        kind: "event",
        name: "go",
        id: "w1",
        endedAt: 1600,
        until: 1600,
        outcome: "timed_out",
      }),
    ]);
  });
});
