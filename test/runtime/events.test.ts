/**
 * Events in the runtime, in process on the memory World: `waitForEvent` receives events sent before
 * and after it waits, in order, the first matching wait first; a wait times out with a catchable
 * `WaitTimeoutError`; `sendEvent` refuses bad input before writing anything. Each case runs twice:
 * with a worker that keeps no run in memory (every step replays the log, so what a wait received
 * is what the log says it received) and with one that keeps runs alive between steps.
 */
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { configure, getRun, resumeHook, sendEvent, shutdown, start } from "../../src/api/index.ts";
import {
  EventPayloadValidationError,
  InvalidEventTypeError,
  WaitTimeoutError,
} from "../../src/errors/events.ts";
import {
  NonDeterminismError,
  PayloadTooLargeError,
  SerializationError,
  WorkflowRunFailedError,
} from "../../src/errors/runtime.ts";
import { RunFinishedError, RunNotFoundError } from "../../src/errors/world.ts";
import { defineEvent } from "../../src/index.ts";
import { getLimits, getPayloadCodec, inProcessWorker } from "../../src/process/process.ts";
import { getWorkflowBundle, registerWorkflowBundle } from "../../src/runtime/registry.ts";
import { Worker } from "../../src/runtime/worker.ts";
import { encodeValue } from "../../src/serde/codec.ts";
import { places } from "../../src/serde/places.ts";
import { expectReject, snapshot } from "../../src/world/testing/fixtures.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { startUnpinned } from "../helpers/unpinned.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

/**
 * The worker replays the log at every step (no run kept in memory, released at once), or keeps
 * runs alive between steps (the default): the outcomes must be the same.
 */
const WORKERS = [
  { mode: "replaying every time", worker: { holdMs: 0, maxCachedRuns: 0 } },
  { mode: "kept in memory", worker: {} },
] as const;

let world: World;
let workerOptions: (typeof WORKERS)[number]["worker"] = WORKERS[0].worker;
beforeEach(() => {
  world = createMemoryWorld();
  configure({
    world,
    worker: { ...workerOptions },
    limits: { maxPayloadBytes: 4096, maxRunBytes: 1024 * 1024 },
  });
});
afterEach(async () => {
  await shutdown();
});

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("condition not reached");
}

/**
 * A Standard Schema for `{ amount: number }`. Workflow factories are evaluated in the sandbox from
 * their source and cannot refer to it: they write their own.
 */
function amountSchema() {
  return {
    "~standard": {
      version: 1 as const,
      vendor: "test",
      validate: (value: unknown) =>
        typeof (value as { amount?: unknown })?.amount === "number"
          ? { value: value as { amount: number } }
          : { issues: [{ message: "amount must be a number", path: ["amount"] }] },
    },
  };
}
const paid = defineEvent("test.paid", { schema: amountSchema() });

const wf = defineWorkflows("test/events.ts", {
  steps: {},
  workflows: {
    afterGo: ({ api }) =>
      async function afterGo(type: string) {
        await api.createHook({ token: "go" });
        const event = await api.waitForEvent<{ amount: number }>(type, { timeout: "1h" });
        return { type: event.type, payload: event.payload, at: event.timestamp.getTime() };
      },
    timesOut: ({ api }) =>
      async function timesOut(ms: number) {
        const started = Date.now();
        try {
          await api.waitForEvent("never", { timeout: ms });
          return "received";
        } catch (error) {
          return {
            name: (error as Error).name,
            is: api.WaitTimeoutError.is(error),
            instance: error instanceof api.WaitTimeoutError,
            eventType: (error as { eventType?: string }).eventType,
            waited: Date.now() - started,
            message: (error as Error).message,
          };
        }
      },
    inOrder: ({ api }) =>
      async function inOrder() {
        await api.createHook({ token: "go-order" });
        const [x, y] = await Promise.all([api.waitForEvent("a"), api.waitForEvent("a")]);
        const z = await api.waitForEvent("b");
        const w = await api.waitForEvent("a");
        return [x, y, z, w].map((event) => `${event.type}:${String(event.payload)}`);
      },
    lateEvent: ({ api }) =>
      async function lateEvent() {
        let first = "received";
        try {
          await api.waitForEvent("late", { timeout: 20 });
        } catch (error) {
          first = (error as Error).name;
        }
        await api.createHook({ token: "go-late" });
        const second = await api.waitForEvent("late", { timeout: "1h" });
        return [first, second.payload];
      },
    typed: ({ api }) =>
      async function typed() {
        const schema = {
          "~standard": {
            version: 1 as const,
            vendor: "test",
            validate: (value: unknown) =>
              typeof (value as { amount?: unknown })?.amount === "number"
                ? { value: value as { amount: number } }
                : { issues: [{ message: "amount must be a number", path: ["amount"] }] },
          },
        };
        try {
          await api.waitForEvent("test.unchecked", { schema });
          return "accepted";
        } catch (error) {
          return { name: (error as Error).name, message: (error as Error).message };
        }
      },
    defined: ({ api }) =>
      async function defined() {
        const approved = api.defineEvent("test.paid", {
          schema: {
            "~standard": {
              version: 1 as const,
              vendor: "test",
              validate: (value: unknown) => ({ value: value as { amount: number } }),
            },
          },
        });
        const event = await approved.wait({ timeout: "1h" });
        return event.payload.amount;
      },
    uncaught: ({ api }) =>
      async function uncaught() {
        return await api.waitForEvent("approval", { timeout: 10 });
      },
    race: ({ api }) =>
      async function race(ms: number) {
        try {
          return (await api.waitForEvent("race", { timeout: ms })).payload;
        } catch (error) {
          return (error as Error).name;
        }
      },
    changingWait: ({ api }) =>
      async function changingWait() {
        await api.waitForEvent("original");
        return "original";
      },
    ignores: ({ api }) =>
      async function ignores() {
        await api.createHook({ token: "go-ignore" });
        return "done";
      },
  },
});

const eventTypes = async (runId: string) =>
  (await world.events.list(runId)).map((event) => event.type).filter((type) => type.startsWith("event_"));

describe.each(WORKERS)("waitForEvent, runs $mode", ({ worker }) => {
  beforeAll(() => {
    workerOptions = worker;
  });
  afterAll(() => {
    workerOptions = WORKERS[0].worker;
  });

  it("receives an event sent before it waited: type, payload, and when it was sent", async () => {
    const run = await start(wf.afterGo, ["test.paid"]);
    await until(
      () => world.hooks.list({ runId: run.runId }),
      (hooks) => hooks.length === 1,
    );
    const sent = await run.sendEvent("test.paid", { amount: 5 });
    expect(sent).toMatchObject({ runId: run.runId, type: "test.paid" });
    expect(sent.eventId).toMatch(/^evt_/);
    // Kept in the inbox while nobody waits for it.
    expect((await world.inbox.list(run.runId)).map((item) => [item.kind, item.eventType])).toEqual([
      ["event", "test.paid"],
    ]);
    expect(await world.waits.list({ runId: run.runId })).toEqual([]);
    await resumeHook("go", null);
    expect(await run.returnValue).toEqual({
      type: "test.paid",
      payload: { amount: 5 },
      at: sent.sentAt.getTime(),
    });
    expect(await eventTypes(run.runId)).toEqual(["event_wait_created", "event_received"]);
    expect(await world.inbox.list(run.runId)).toEqual([]);
    const [wait] = await world.waits.list({ runId: run.runId });
    expect(wait).toMatchObject({ kind: "event", eventType: "test.paid", status: "completed" });
  });

  it("times out: the workflow catches a WaitTimeoutError, and the wait is timed_out", async () => {
    const run = await start(wf.timesOut, [50]);
    const result = (await run.returnValue) as Record<string, unknown>;
    expect(result).toMatchObject({ name: "WaitTimeoutError", is: true, instance: true, eventType: "never" });
    expect(result.waited).toBeGreaterThanOrEqual(50);
    expect(result.message).toMatch(/waitForEvent\("never"\) timed out after 50 ms/);
    expect(WaitTimeoutError.code).toBe("WAIT_TIMEOUT");
    expect(await eventTypes(run.runId)).toEqual(["event_wait_created", "event_wait_timed_out"]);
    const [wait] = await world.waits.list({ runId: run.runId });
    expect(wait).toMatchObject({ kind: "event", eventType: "never", status: "timed_out" });
  });

  it("a timeout the workflow does not catch fails the run with a WaitTimeoutError the host recognises", async () => {
    const run = await start(wf.uncaught);
    const failure = await run.returnValue.catch((error: unknown) => error);
    expect(WorkflowRunFailedError.is(failure)).toBe(true);
    const cause = (failure as Error).cause;
    expect(WaitTimeoutError.is(cause)).toBe(true);
    expect(cause).toMatchObject({ code: "WAIT_TIMEOUT", eventType: "approval" });
  });

  it("delivers events in the order they were sent, each to the first wait of its type", async () => {
    const run = await start(wf.inOrder);
    await until(
      () => world.hooks.list({ runId: run.runId }),
      (hooks) => hooks.length === 1,
    );
    for (const [type, payload] of [
      ["a", 1],
      ["b", 1],
      ["a", 2],
      ["a", 3],
    ] as const) {
      await sendEvent(run.runId, type, payload);
    }
    await resumeHook("go-order", null);
    expect(await run.returnValue).toEqual(["a:1", "a:2", "b:1", "a:3"]);
    const received = (await world.events.list(run.runId)).flatMap((event) =>
      event.type === "event_received" ? [event.data.eventType] : [],
    );
    expect(received).toEqual(["a", "a", "b", "a"]);
  });

  it("an event sent after a wait timed out is kept for the next wait of its type", async () => {
    const run = await start(wf.lateEvent);
    await until(
      () => world.hooks.list({ runId: run.runId }),
      (hooks) => hooks.length === 1,
    );
    await sendEvent(run.runId, "late", "on time for the second wait");
    await resumeHook("go-late", null);
    expect(await run.returnValue).toEqual(["WaitTimeoutError", "on time for the second wait"]);
  });

  it("a wait with a schema throws EventPayloadValidationError for a payload that fails it", async () => {
    const run = await start(wf.typed);
    // No defineEvent for this type here: sendEvent cannot check, the wait does.
    await sendEvent(run.runId, "test.unchecked", { amount: "five" });
    const result = (await run.returnValue) as { name: string; message: string };
    expect(result.name).toBe("EventPayloadValidationError");
    expect(result.message).toMatch(/amount: amount must be a number/);
  });

  it("defineEvent gives the workflow a typed wait and the sender a checked send", async () => {
    const run = await start(wf.defined);
    await paid.send(run.runId, { amount: 42 });
    expect(await run.returnValue).toBe(42);
  });

  it("an event no wait takes stays in the run's inbox; the run still ends", async () => {
    const run = await start(wf.ignores);
    await sendEvent(run.runId, "unused", 1);
    await until(
      () => world.hooks.list({ runId: run.runId }),
      (hooks) => hooks.length === 1,
    );
    await resumeHook("go-ignore", null);
    expect(await run.returnValue).toBe("done");
    expect((await world.inbox.list(run.runId)).map((item) => item.eventType)).toEqual(["unused"]);
  });
});

describe("replaying event waits", () => {
  it("an event sent before a wait's timeout is delivered, though the worker gets there after it", async () => {
    const run = await start(wf.race, [300]);
    const [wait] = await until(
      () => world.waits.list({ runId: run.runId }),
      (waits) => waits.length === 1,
    );
    await until(
      () => world.runs.get(run.runId),
      (record) => record.lease === undefined,
    );
    // Nobody drives the run now: the event waits in the inbox while the timeout passes.
    await inProcessWorker()?.stop();
    const sent = await sendEvent(run.runId, "race", "in time");
    expect(sent.sentAt.getTime()).toBeLessThan(wait?.resumeAt ?? 0);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (wait?.resumeAt ?? 0) - Date.now() + 50)));
    const late = new Worker({ world, payloads: getPayloadCodec(), limits: getLimits(), holdMs: 0 });
    late.start();
    try {
      expect(await run.returnValue).toBe("in time");
    } finally {
      await late.stop();
    }
    expect(await eventTypes(run.runId)).toEqual(["event_wait_created", "event_received"]);
  });

  /** Version 2 of `changingWait`: waits for another event type. Returns how to put version 1 back. */
  const changeWaitCode = (): (() => void) => {
    const original = getWorkflowBundle(wf.changingWait.workflowId);
    if (original === undefined) throw new Error("changingWait is not registered");
    registerWorkflowBundle({
      filename: "changed-wait.js",
      workflowIds: [wf.changingWait.workflowId],
      code: `(() => {
        const r = globalThis[Symbol.for("stepwise.sandbox")].registrar;
        r.registerWorkflow(${JSON.stringify(wf.changingWait.workflowId)}, async function changingWait() {
          await r.api.waitForEvent("renamed");
          return "changed";
        });
      })();`,
    });
    return () =>
      registerWorkflowBundle({
        code: original.code,
        filename: original.filename,
        workflowIds: original.workflowIds,
      });
  };

  it("keeps a run on its code when the workflow now waits for another event type", async () => {
    const run = await start(wf.changingWait);
    await until(
      () => world.waits.list({ runId: run.runId }),
      (waits) => waits.length === 1,
    );
    const restore = changeWaitCode();
    try {
      await sendEvent(run.runId, "original", 1);
      // Pinned to the code it started with: it receives the event its version waits for.
      expect(await run.returnValue).toBe("original");
    } finally {
      restore();
    }
  });

  it("fails a run older than pinning loudly when the code now waits for another event type", async () => {
    const runId = await startUnpinned(wf.changingWait.workflowId);
    await until(
      () => world.waits.list({ runId }),
      (waits) => waits.length === 1,
    );
    const restore = changeWaitCode();
    try {
      await sendEvent(runId, "original", 1);
      const failure = await getRun(runId).returnValue.catch((error: unknown) => error);
      const cause = (failure as Error).cause as Error;
      expect(NonDeterminismError.is(cause)).toBe(true);
      expect(cause.message).toContain('call #1 was waitForEvent("original")');
      expect(cause.message).toContain('now makes waitForEvent("renamed")');
    } finally {
      restore();
    }
  });
});

describe("encrypted events", () => {
  const key = randomBytes(32).toString("base64");
  beforeAll(() => {
    process.env.STEPWISE_ENCRYPTION_KEY = key;
  });
  afterAll(() => {
    delete process.env.STEPWISE_ENCRYPTION_KEY;
  });

  it("an event's payload is encrypted, bound to the event: one moved to another event is not delivered", async () => {
    const warnings: string[] = [];
    configure({ worker: { holdMs: 0, maxCachedRuns: 0, warn: (message) => warnings.push(message) } });
    const run = await start(wf.race, [3_600_000]);
    await until(
      () => world.waits.list({ runId: run.runId }),
      (waits) => waits.length === 1,
    );
    const record = await world.runs.get(run.runId);
    expect(record.encrypted).toBe(true);
    // A payload sealed for event evt_A, stored as event evt_B of the same type and run.
    const moved = getPayloadCodec().encode(
      record,
      places.eventPayload("evt_A", "race"),
      encodeValue("forged"),
    );
    await world.inbox.put({
      itemId: "evt_B",
      runId: run.runId,
      kind: "event",
      eventType: "race",
      payload: moved,
    });
    await until(
      async () => warnings.join("\n"),
      (text) => text.includes(`run ${run.runId} holds a payload`),
    );
    expect(warnings.join("\n")).toContain('the payload of event evt_B (type "race")');
    // Nothing recorded; the event waits where it was.
    expect(await eventTypes(run.runId)).toEqual(["event_wait_created"]);
    expect((await world.inbox.list(run.runId)).map((item) => item.itemId)).toEqual(["evt_B"]);
    // A real one, sent after it, is stored encrypted, and not delivered past it: events keep their order.
    const sent = await sendEvent(run.runId, "race", "real");
    const stored = (await world.inbox.list(run.runId)).find((item) => item.itemId === sent.eventId);
    expect(stored?.payload?.[0]).toBe(0x03);
    expect(Buffer.from(stored?.payload ?? []).includes(Buffer.from("real"))).toBe(false);
    // The worker looks again (after a second), and again stops at the forged one.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await eventTypes(run.runId)).toEqual(["event_wait_created"]);
    expect((await world.inbox.list(run.runId)).map((item) => item.itemId)).toEqual(["evt_B", sent.eventId]);
  });
});

describe("sendEvent refuses bad input and writes nothing", () => {
  it("an unknown run, a finished run, a bad type, a payload failing its schema, one that cannot be stored or is too large", async () => {
    const waiting = await start(wf.afterGo, ["test.paid"]);
    const finished = await start(wf.timesOut, [1]);
    await getRun(finished.runId).returnValue;
    await until(
      () => world.hooks.list({ runId: waiting.runId }),
      (hooks) => hooks.length === 1,
    );
    const before = await snapshot(world, [waiting.runId, finished.runId]);

    await expectReject(sendEvent("wrun_missing", "test.paid", { amount: 1 }), RunNotFoundError, true);
    const ended = await expectReject(sendEvent(finished.runId, "x", 1), RunFinishedError, true);
    expect(ended.message).toMatch(/has already ended \(status: completed\)/);
    for (const bad of ["", "has space", "x".repeat(101), "slash/type"]) {
      await expectReject(sendEvent(waiting.runId, bad, 1), InvalidEventTypeError, true);
    }
    const invalid = await expectReject(
      sendEvent(waiting.runId, "test.paid", { amount: "five" }),
      EventPayloadValidationError,
      true,
    );
    expect(invalid.message).toMatch(
      /does not match the schema of defineEvent\("test.paid"\): amount: amount must be a number\. Nothing was sent\./,
    );
    await expectReject(
      sendEvent(waiting.runId, "x", () => 1),
      SerializationError,
      true,
    );
    const large = await expectReject(
      sendEvent(waiting.runId, "x", "y".repeat(5000)),
      PayloadTooLargeError,
      true,
    );
    expect(large.message).toMatch(/The payload of the "x" event is .* over the .* limit per payload/);

    expect(await snapshot(world, [waiting.runId, finished.runId])).toEqual(before);
  });
});
