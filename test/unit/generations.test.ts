import { describe, expect, it } from "vitest";
import { planReplay } from "../../src/runtime/replay-plan.ts";
import { planRestart } from "../../src/runtime/restart-plan.ts";
import { derivedId } from "../../src/util/ids.ts";
import type { EventRecord } from "../../src/world/events.ts";

let seq = 0;
function event<T extends EventRecord["type"]>(
  type: T,
  data: Extract<EventRecord, { type: T }>["data"],
): EventRecord {
  seq += 1;
  return { runId: "wrun_x", seq, type, data, createdAt: 1000 + seq } as EventRecord;
}

/** Generation 1: hook h (call 0), step a (1), step charge (2) beside a, a sleep (3); a ends after charge began. */
function firstGeneration(): EventRecord[] {
  seq = 0;
  return [
    event("run_created", { workflowName: "w", seed: "00", specVersion: 4 }),
    event("run_started", {}),
    event("hook_created", { hookId: "h", token: "tok", kind: "hook" }),
    event("step_started", { stepId: "a", stepName: "step//w.ts//prepare", attempt: 1 }),
    event("step_started", { stepId: "c", stepName: "step//w.ts//charge", attempt: 1 }),
    event("step_completed", { stepId: "a", attempt: 1 }),
    event("hook_disposed", { hookId: "h" }),
    event("wait_created", { waitId: "s", resumeAt: 9000 }),
    event("step_completed", { stepId: "c", attempt: 1 }),
    event("run_completed", {}),
  ];
}

describe("generations", () => {
  it("a restart keeps the calls before its point with all their outcomes, but not later hook disposals", () => {
    const log = firstGeneration();
    const restart = planRestart("wrun_x", log, { step: "charge" });
    expect(restart).toMatchObject({ generation: 2, fromCall: 2, step: "step//w.ts//charge", occurrence: 1 });
    // The hook was disposed after charge began: the workflow does that again (or not) from there.
    expect(restart.hooks).toEqual([{ hookId: "h", token: "tok" }]);
    expect(restart.waits).toEqual([]);
    const next = [...log, event("run_restarted", { generation: 2, fromCall: 2, hooks: ["h"] })];
    const plan = planReplay(next);
    expect(plan.generation).toBe(2);
    expect(plan.keptCalls).toBe(2);
    expect(plan.calls.map((call) => [call.id, call.generation])).toEqual([
      ["h", 1],
      ["a", 1],
    ]);
    expect(plan.calls[0]).toMatchObject({ kind: "hook", disposed: false });
    expect(plan.deliveries.map((d) => d.seq)).toEqual([6]);
    expect(plan.keptDeliveries).toBe(1);
    expect(plan.started).toBe(false);
    expect(plan.terminal).toBeUndefined();
    expect(plan.lastEventAt).toBe(next.at(-1)?.createdAt);
  });

  it("plans the new generation's own calls after the kept ones, and nests", () => {
    const log = [
      ...firstGeneration(),
      event("run_restarted", { generation: 2, fromCall: 2 }),
      event("run_started", {}),
      event("step_started", { stepId: "c2", stepName: "step//w.ts//charge", attempt: 1 }),
      event("step_completed", { stepId: "c2", attempt: 1 }),
      event("wait_created", { waitId: "s2", resumeAt: 9000 }),
      event("run_cancelled", { reason: "restart" }),
    ];
    const plan = planReplay(log);
    expect(plan.calls.map((call) => [call.id, call.generation])).toEqual([
      ["h", 1],
      ["a", 1],
      ["c2", 2],
      ["s2", 2],
    ]);
    expect(plan.started).toBe(true);
    expect(plan.terminal?.type).toBe("run_cancelled");
    // From the charge of generation 2 (call 2): the sleep it made after is not kept.
    const again = planRestart("wrun_x", log, { step: "charge" });
    expect(again).toMatchObject({ generation: 3, fromCall: 2, waits: [] });
    // From the beginning nothing is kept; a step the run never called is refused, naming those it did.
    expect(planRestart("wrun_x", log)).toMatchObject({ generation: 3, fromCall: 0, hooks: [], waits: [] });
    expect(() => planRestart("wrun_x", log, { step: "ship" })).toThrow(
      /never called a step named "ship".*the steps it called are: prepare, charge/,
    );
    const third = planReplay([...log, event("run_restarted", { generation: 3, fromCall: 1 })]);
    expect(third.calls.map((call) => call.id)).toEqual(["h"]);
    expect(third.deliveries).toEqual([]);
  });

  it("a kept sleep still waiting waits again", () => {
    seq = 0;
    const log = [
      event("run_created", { workflowName: "w", seed: "00", specVersion: 4 }),
      event("run_started", {}),
      event("wait_created", { waitId: "s", resumeAt: 9000 }),
      event("step_started", { stepId: "c", stepName: "step//w.ts//charge", attempt: 1 }),
      event("run_cancelled", {}),
    ];
    expect(planRestart("wrun_x", log, { step: "charge" }).waits).toEqual(["s"]);
  });

  it("derives other ids in later generations, and the ids of generation 1 as before", () => {
    const one = derivedId("step", "seed", 0, 3);
    expect(derivedId("step", "seed", 0, 3, 1)).toBe(one);
    expect(derivedId("step", "seed", 0, 3, 2)).not.toBe(one);
    expect(derivedId("step", "seed", 0, 3, 3)).not.toBe(derivedId("step", "seed", 0, 3, 2));
  });
});
