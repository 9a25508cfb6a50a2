/**
 * What `inspect` shows of events (`waitForEvent`, `sendEvent`) on a real local World with real
 * encryption: the three event types in `inspect events` (type, timeout and send times as ISO, the
 * payload `<encrypted>` unless decrypted, read at its own place), event waits beside sleeps in
 * `inspect sleeps` (what each waits for, `timed_out`), and a run waiting for an event shown as
 * `waiting for event …` rather than `sleeping`.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ENCRYPTED_PAYLOAD, inspect } from "../../src/ops/inspect.ts";
import { describeRunState, runState } from "../../src/ops/run-state.ts";
import { SPEC_VERSION } from "../../src/runtime/version.ts";
import { encodeValue } from "../../src/serde/codec.ts";
import { createKeyring, parseEncryptionKey } from "../../src/serde/keys.ts";
import { createPayloadCodec, type PayloadCodec } from "../../src/serde/payload.ts";
import { places } from "../../src/serde/places.ts";
import { appendNext } from "../../src/world/testing/fixtures.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";

const codec: PayloadCodec = createPayloadCodec({
  keyring: createKeyring(parseEncryptionKey(randomBytes(32).toString("base64"), "current"), []),
});
const actor = { user: "ada", host: "ops-01", pid: 4242 };
const runId = "wrun_01INSPECTEVENTS000000000";
const scope = { runId, encrypted: true, specVersion: SPEC_VERSION };
const timeoutAt = Date.UTC(2031, 0, 2, 3, 4, 5);
const sentAt = Date.UTC(2031, 0, 1, 0, 0, 0);

let dataDir: string;
let world: World;
beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "stepwise-inspect-events-"));
  world = createLocalWorld({ dataDir });
  await world.runs.create({
    runId,
    workflowName: "workflow//workflows/order.ts//order",
    specVersion: SPEC_VERSION,
    seed: "s",
    encrypted: true,
    input: codec.encode(scope, places.runInput, encodeValue([])),
  });
  await appendNext(world, runId, [
    { type: "run_started", data: {} },
    { type: "event_wait_created", data: { waitId: "wait_paid", eventType: "payment.received", timeoutAt } },
    {
      type: "event_received",
      data: { waitId: "wait_paid", eventId: "evt_1", eventType: "payment.received", sentAt },
      payload: codec.encode(
        scope,
        places.eventPayload("evt_1", "payment.received"),
        encodeValue({ amount: 42 }),
      ),
    },
    { type: "event_wait_created", data: { waitId: "wait_ship", eventType: "shipped", timeoutAt } },
    { type: "event_wait_timed_out", data: { waitId: "wait_ship" } },
    { type: "event_wait_created", data: { waitId: "wait_open", eventType: "approved", timeoutAt } },
    { type: "wait_created", data: { waitId: "wait_nap", resumeAt: timeoutAt + 1000 } },
  ]);
});
afterEach(async () => {
  await world.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("inspect and events", () => {
  it("inspect events shows each event's type, ISO times, and its payload only when decrypted", async () => {
    const hidden = await inspect(world, codec, "events", { id: runId });
    expect(hidden.table).toMatch(
      /event_wait_created {4}\S+ {2}waitId=wait_paid eventType=payment.received timeoutAt=2031-01-02T03:04:05.000Z\n/,
    );
    expect(hidden.table).toMatch(
      /event_received {8}\S+ {2}waitId=wait_paid eventId=evt_1 eventType=payment.received sentAt=2031-01-01T00:00:00.000Z <encrypte/,
    );
    expect(hidden.table).toMatch(/event_wait_timed_out {2}\S+ {2}waitId=wait_ship\n/);
    expect(hidden.rows.find((row) => row.type === "event_received")?.payload).toBe(ENCRYPTED_PAYLOAD);
    const shown = await inspect(world, codec, "events", { id: runId, decrypt: true, reason: "check", actor });
    const received = shown.rows.find((row) => row.type === "event_received");
    expect(received).toMatchObject({
      data: { eventType: "payment.received", sentAt: "2031-01-01T00:00:00.000Z" },
      payload: { amount: 42 },
    });
  });

  it("inspect sleeps lists event waits beside sleeps: what each waits for, until when, timed out", async () => {
    const result = await inspect(world, codec, "sleeps", { runId });
    expect(result.rows.map((row) => [row.waitId, row.kind, row.eventType, row.status])).toEqual([
      ["wait_paid", "event", "payment.received", "completed"],
      ["wait_ship", "event", "shipped", "timed_out"],
      ["wait_open", "event", "approved", "waiting"],
      ["wait_nap", "sleep", undefined, "waiting"],
    ]);
    expect(result.table).toMatch(/wait_ship\s+event shipped\s+timed_out\s+2031-01-02T03:04:05Z/);
    expect(result.table).toMatch(/wait_nap\s+sleep\s+waiting/);
    const timedOut = await inspect(world, codec, "sleeps", { runId, status: "timed_out" });
    expect(timedOut.rows.map((row) => row.waitId)).toEqual(["wait_ship"]);
  });

  it("a run waiting for an event is waiting for it, until its earliest timeout, not sleeping", async () => {
    const state = await runState(world, await world.runs.get(runId));
    expect(state).toEqual({ status: "waiting", events: ["approved"], until: timeoutAt });
    expect(describeRunState(state)).toBe("waiting for event approved until 2031-01-02T03:04:05Z");
    const runs = await inspect(world, codec, "runs", {});
    expect(runs.rows[0]).toMatchObject({ status: "waiting", waitingForEvents: ["approved"] });
    expect(runs.table).toContain("waiting for event approved until 2031-01-02T03:04:05Z");
    expect(describeRunState({ status: "waiting", tokens: ["t"], events: ["a", "b"] })).toBe(
      "waiting for hook t and events a, b",
    );
  });

  it("inspect events shows the generation of each event of a restarted run, on every page", async () => {
    const plain = await inspect(world, codec, "events", { id: runId });
    expect(plain.table.split("\n")[0]).toMatch(/^SEQ\s+TYPE\s+TIME\s+DETAIL/);
    expect(plain.rows.every((row) => row.generation === 1)).toBe(true);
    await appendNext(world, runId, [{ type: "run_cancelled", data: { reason: "restart" } }]);
    await appendNext(world, runId, [
      {
        type: "run_restarted",
        data: { generation: 2, fromCall: 1, step: "step//w.ts//charge", occurrence: 1 },
      },
      { type: "run_started", data: {} },
    ]);
    const shown = await inspect(world, codec, "events", { id: runId });
    const lines = shown.table.split("\n");
    expect(lines[0]).toMatch(/^SEQ\s+GEN\s+TYPE\s+TIME\s+DETAIL/);
    expect(lines.find((line) => line.includes("run_cancelled"))).toMatch(/^9\s+1\s+run_cancelled/);
    expect(lines.find((line) => line.includes("run_restarted"))).toMatch(
      /^10\s+2\s+run_restarted\s+\S+\s+generation=2 fromCall=1 step=charge occurrence=1/,
    );
    expect(shown.rows.map((row) => [row.seq, row.generation]).slice(-3)).toEqual([
      [9, 1],
      [10, 2],
      [11, 2],
    ]);
    const page = await inspect(world, codec, "events", { id: runId, cursor: "10" });
    expect(page.rows).toEqual([expect.objectContaining({ seq: 11, generation: 2, type: "run_started" })]);
    expect(page.table).toMatch(/^SEQ\s+GEN/);
  });
});
