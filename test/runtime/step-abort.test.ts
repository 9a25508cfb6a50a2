/**
 * Step timeouts and the step's abort signal, on every World (memory, a real SQLite file, a real
 * PostgreSQL server): an attempt that runs past `fn.timeout` is failed with a `StepTimeoutError`,
 * its signal fires, and it is retried under the step's policy (and replays like any failed
 * attempt); a step out of attempts rejects in the workflow with the timeout, and a late result is
 * never recorded; cancelling a run aborts its steps in flight (the durable `fetch` included) and
 * records the run cancelled at once; a run that ends aborts the steps it no longer waits for; a
 * worker that stops aborts its steps once its stop grace runs out, and one that stops because of
 * it has not failed: it runs again on the next worker. (Lease loss is proven with real processes: test/e2e/step-abort.test.ts.)
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getRun, shutdown, start } from "../../src/api/index.ts";
import { type StepAbortedError, StepTimeoutError } from "../../src/errors/step.ts";
import { getStepMetadata } from "../../src/index.ts";
import { type RunReport, Worker, type WorkerOptions } from "../../src/runtime/worker.ts";
import { decodeValue } from "../../src/serde/codec.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import { places } from "../../src/serde/places.ts";
import type { World } from "../../src/world/types.ts";
import { everyWorld, until, type WorldEnv } from "../helpers/every-world.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

/** What each step saw: the attempts it began, and its signal's reason when it aborted. */
interface Seen {
  attempt: number;
  code: string;
  reason: string;
  message: string;
}
const began = new Map<string, number[]>();
const aborts = new Map<string, Seen[]>();
/** Steps that ran to their end after their signal aborted (their result must not be recorded). */
const finishedAfterAbort: string[] = [];
/** Gates of steps that ignore their signal, opened by the test. */
const gates = new Map<string, () => void>();

function watch(label: string): AbortSignal {
  const { attempt, signal } = getStepMetadata();
  began.set(label, [...(began.get(label) ?? []), attempt]);
  signal.addEventListener(
    "abort",
    () => {
      const reason = signal.reason as StepAbortedError;
      const seen = { attempt, code: reason.code, reason: reason.reason, message: reason.message };
      aborts.set(label, [...(aborts.get(label) ?? []), seen]);
    },
    { once: true },
  );
  return signal;
}
const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
const never = () => new Promise<never>(() => {});

/** Blocks on a promise that never settles until attempt 3. */
const hangs = Object.assign(
  async (label: string) => {
    watch(label);
    const { attempt } = getStepMetadata();
    if (attempt < 3) await never();
    return `done@${attempt}`;
  },
  { timeout: 150, retries: { delay: 10, backoff: "constant" as const } },
);

/** Ignores its signal: ends only when the test opens its gate, long after its timeout. */
const ignores = Object.assign(
  async (label: string) => {
    watch(label);
    const { attempt } = getStepMetadata();
    await new Promise<void>((resolve) => gates.set(`${label}@${attempt}`, resolve));
    finishedAfterAbort.push(`${label}@${attempt}`);
    return "late";
  },
  { timeout: "100ms", maxRetries: 1, retries: { delay: 10 } },
);

/** Ignores its signal: ends only when the test opens its gate. No timeout. */
async function deaf(label: string): Promise<string> {
  watch(label);
  await new Promise<void>((resolve) => gates.set(label, resolve));
  finishedAfterAbort.push(label);
  return "late";
}

/** Waits for its signal, then returns a value all the same. */
async function honours(label: string): Promise<string> {
  await aborted(watch(label));
  finishedAfterAbort.push(label);
  return "after abort";
}

/** Stops when told to (attempt 1), by throwing its signal's reason; later attempts succeed. */
async function stopsWhenTold(label: string): Promise<string> {
  const signal = watch(label);
  const { attempt } = getStepMetadata();
  if (attempt === 1) {
    await aborted(signal);
    throw signal.reason;
  }
  return `done@${attempt}`;
}

/** Times out once, then succeeds. */
const timesOutOnce = Object.assign(
  async (label: string) => {
    watch(label);
    const { attempt } = getStepMetadata();
    if (attempt === 1) await never();
    return `ok@${attempt}`;
  },
  { timeout: 100, retries: { delay: 10 } },
);

async function quick(label: string): Promise<string> {
  return `quick ${label}`;
}

const wf = defineWorkflows("test/step-abort.ts", {
  steps: { hangs, ignores, deaf, honours, stopsWhenTold, timesOutOnce, quick },
  workflows: {
    timesOut: ({ steps }) =>
      async function timesOut(label: string) {
        return await steps.hangs(label);
      },
    exhausts: ({ steps, api }) =>
      async function exhausts(label: string) {
        try {
          await steps.ignores(label);
          return "unreachable";
        } catch (error) {
          const e = error as StepTimeoutError;
          return {
            isTimeout: api.StepTimeoutError.is(e),
            isAbort: api.StepAbortedError.is(e),
            isError: e instanceof Error,
            name: e.name,
            reason: e.reason,
            timeoutMs: e.timeoutMs,
            message: e.message,
          };
        }
      },
    deafFlow: ({ steps }) =>
      async function deafFlow(label: string) {
        return await steps.deaf(label);
      },
    quickFlow: ({ steps }) =>
      async function quickFlow(label: string) {
        return await steps.quick(label);
      },
    busy: ({ steps }) =>
      async function busy(label: string) {
        return await steps.honours(label);
      },
    races: ({ steps }) =>
      async function races(label: string) {
        return await Promise.race([steps.honours(label), steps.quick(label)]);
      },
    stops: ({ steps }) =>
      async function stops(label: string) {
        return await steps.stopsWhenTold(label);
      },
    replays: ({ steps, api }) =>
      async function replays(label: string) {
        const first = await steps.timesOutOnce(label);
        await api.sleep("50ms");
        return [first, await steps.quick(label)];
      },
    fetches: ({ api }) =>
      async function fetches(url: string) {
        const response = await api.fetch(url);
        return response.status;
      },
  },
});

const { worlds: WORLDS, stop } = everyWorld("abort");
afterAll(stop);

describe.each(Object.keys(WORLDS))("on the %s World", (name) => {
  let env: WorldEnv;
  let world: World;
  const workers: Worker[] = [];
  const reports: RunReport[] = [];

  function startWorker(options: Omit<WorkerOptions, "world"> = {}): Worker {
    const worker = new Worker({ world, onRun: (report) => reports.push(report), ...options });
    worker.start();
    workers.push(worker);
    return worker;
  }
  const stepEvents = async (runId: string) =>
    (await world.events.list(runId))
      .filter((event) => event.type.startsWith("step_"))
      .map((event) => `${event.type}:${(event.data as { attempt?: number }).attempt}`);
  /** The errors a step's failed attempts recorded, decoded as the workflow would see them. */
  async function recordedErrors(runId: string): Promise<Error[]> {
    const record = await world.runs.get(runId);
    const codec = createPayloadCodec();
    return (await world.events.list(runId))
      .filter((event) => event.type === "step_retrying" || event.type === "step_failed")
      .map((event) => {
        const place = places.stepError((event.data as { stepId: string }).stepId);
        return decodeValue(codec.decode(record, place, event.payload as Uint8Array)) as Error;
      });
  }

  beforeEach(async () => {
    began.clear();
    aborts.clear();
    gates.clear();
    finishedAfterAbort.length = 0;
    reports.length = 0;
    process.env.STEPWISE_WORKER = "0"; // the test starts its workers itself
    env = await WORLDS[name as keyof typeof WORLDS]();
    world = env.world;
    configure({ world });
  });
  afterEach(async () => {
    for (const open of gates.values()) open();
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    delete process.env.STEPWISE_WORKER;
    await shutdown();
    env.cleanup();
  });

  it("a step blocking on a promise that never settles is timed out, its signal fires, and it is retried", async () => {
    startWorker();
    const run = await start(wf.timesOut, ["hang"]);
    expect(await run.returnValue).toBe("done@3");
    expect(began.get("hang")).toEqual([1, 2, 3]);
    // The step saw its signal abort, with a StepTimeoutError saying after how long.
    expect(aborts.get("hang")?.map((seen) => [seen.attempt, seen.code, seen.reason])).toEqual([
      [1, "STEP_TIMEOUT", "timeout"],
      [2, "STEP_TIMEOUT", "timeout"],
    ]);
    expect(aborts.get("hang")?.[0]?.message).toMatch(/timed out after 150ms \(attempt 1, run wrun_/);
    // Each timed-out attempt is a failed attempt, retried under the step's policy.
    expect(await stepEvents(run.runId)).toEqual([
      "step_started:1",
      "step_retrying:1",
      "step_started:2",
      "step_retrying:2",
      "step_started:3",
      "step_completed:3",
    ]);
    const errors = await recordedErrors(run.runId);
    expect(errors.map((error) => StepTimeoutError.is(error))).toEqual([true, true]);
    expect(errors[0]?.message).toMatch(/^Step step\/\/test\/step-abort\.ts\/\/hangs timed out after 150ms/);
    expect(errors[1]).toMatchObject({ timeoutMs: 150, attempt: 2, reason: "timeout" });
  });

  it("out of attempts, the workflow catches the StepTimeoutError; a late result is never recorded", async () => {
    startWorker();
    const run = await start(wf.exhausts, ["late"]);
    const caught = (await run.returnValue) as Record<string, unknown>;
    expect(caught).toMatchObject({
      isTimeout: true,
      isAbort: true,
      isError: true,
      name: "StepTimeoutError",
      reason: "timeout",
      timeoutMs: 100,
    });
    expect(caught.message).toMatch(/timed out after 100ms \(attempt 2/);
    expect(began.get("late")).toEqual([1, 2]);
    // Both attempts ignored their signals and still run: let them finish now.
    expect(finishedAfterAbort).toEqual([]);
    for (const open of gates.values()) open();
    await until("both late attempts to finish", () => finishedAfterAbort.length === 2);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(await stepEvents(run.runId)).toEqual([
      "step_started:1",
      "step_retrying:1",
      "step_started:2",
      "step_failed:2",
    ]);
    const [step] = await world.steps.list(run.runId);
    expect(step?.status).toBe("failed");
  });

  it("a timed-out attempt replays like any failed attempt: the run goes on from the log, nothing runs again", async () => {
    // No cache and no holding: after the sleep, the run is replayed from its log.
    startWorker({ maxCachedRuns: 0, holdMs: 0 });
    const run = await start(wf.replays, ["replay"]);
    expect(await run.returnValue).toEqual(["ok@2", "quick replay"]);
    expect(reports.filter((report) => report.runId === run.runId).map((r) => r.outcome)).toContain(
      "suspended",
    );
    expect(began.get("replay")).toEqual([1, 2]);
    expect(await stepEvents(run.runId)).toEqual([
      "step_started:1",
      "step_retrying:1",
      "step_started:2",
      "step_completed:2",
      "step_started:1",
      "step_completed:1",
    ]);
  });

  it("cancel aborts the run's steps in flight and records the run cancelled at once; their results are discarded", async () => {
    startWorker();
    const run = await start(wf.busy, ["cancel"]);
    await until("the step to begin", () => began.has("cancel"));
    await getRun(run.runId).cancel();
    expect(await run.status).toBe("cancelled");
    expect(aborts.get("cancel")).toEqual([
      expect.objectContaining({ attempt: 1, code: "STEP_ABORTED", reason: "cancelled" }),
    ]);
    expect(aborts.get("cancel")?.[0]?.message).toMatch(/The run was cancelled while step/);
    // The step returned after its abort: nothing of it is recorded.
    await until("the step to return", () => finishedAfterAbort.includes("cancel"));
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    const types = (await world.events.list(run.runId)).map((event) => event.type);
    expect(types).toEqual(["run_created", "run_started", "step_started", "run_cancelled"]);
  });

  it("a cancelled step that ignores its signal gives its concurrency slot back at once", async () => {
    startWorker({ maxConcurrentSteps: 1 });
    const deafRun = await start(wf.deafFlow, ["deaf"]);
    await until("the deaf step to begin", () => began.has("deaf"));
    await getRun(deafRun.runId).cancel();
    // The only slot is free again while the deaf step still runs: another run's step executes.
    const other = await start(wf.quickFlow, ["other"]);
    expect(await other.returnValue).toBe("quick other");
    expect(finishedAfterAbort).toEqual([]);
    expect(aborts.get("deaf")).toEqual([expect.objectContaining({ reason: "cancelled" })]);
    gates.get("deaf")?.();
    await until("the deaf step to finish in the background", () => finishedAfterAbort.includes("deaf"));
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect((await world.events.list(deafRun.runId)).map((event) => event.type)).toEqual([
      "run_created",
      "run_started",
      "step_started",
      "run_cancelled",
    ]);
  });

  it("cancel aborts a durable fetch to a server that never answers", async () => {
    let requests = 0;
    let closed = 0;
    const silent: Server = createServer((request) => {
      requests += 1;
      request.socket.on("close", () => {
        closed += 1;
      });
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      startWorker();
      const run = await start(wf.fetches, [`http://127.0.0.1:${port}/never`]);
      await until("the request to arrive", () => requests === 1);
      await getRun(run.runId).cancel();
      expect(await run.status).toBe("cancelled");
      // The request was aborted: its connection closed, while the server never answered.
      await until("the aborted request's connection to close", () => closed === 1);
      const types = (await world.events.list(run.runId)).map((event) => event.type);
      expect(types).toEqual(["run_created", "run_started", "step_started", "run_cancelled"]);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("a run that ends aborts the steps it no longer waits for", async () => {
    startWorker();
    const run = await start(wf.races, ["race"]);
    expect(await run.returnValue).toBe("quick race");
    await until("the losing step to see its abort", () => aborts.has("race"));
    expect(aborts.get("race")).toEqual([
      expect.objectContaining({ attempt: 1, code: "STEP_ABORTED", reason: "run-ended" }),
    ]);
    await until("the losing step to return", () => finishedAfterAbort.includes("race"));
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(await stepEvents(run.runId)).toEqual(["step_started:1", "step_started:1", "step_completed:1"]);
  });

  it("a worker that stops aborts its steps after its grace; one that stops because of it has not failed, and runs again on the next worker", async () => {
    const first = startWorker({ stopGraceMs: 200 });
    const run = await start(wf.stops, ["stop"]);
    await until("the step to begin", () => began.has("stop"));
    // stop() resolves only once the step has ended: the step ended because it was told to, once
    // the grace had run out.
    const stopping = first.stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(aborts.has("stop")).toBe(false);
    await stopping;
    expect(aborts.get("stop")).toEqual([
      expect.objectContaining({ attempt: 1, code: "STEP_ABORTED", reason: "shutdown" }),
    ]);
    expect(aborts.get("stop")?.[0]?.message).toMatch(/The worker is shutting down while step/);
    // The attempt is neither failed nor retried: no outcome, the run handed back.
    expect(await stepEvents(run.runId)).toEqual(["step_started:1"]);
    const handedBack = await world.runs.get(run.runId);
    expect(handedBack.status).toBe("running");
    expect(handedBack.lease).toBeUndefined();

    startWorker();
    expect(await run.returnValue).toBe("done@2");
    expect(await stepEvents(run.runId)).toEqual(["step_started:1", "step_started:2", "step_completed:2"]);
  });
});
