/**
 * Pausing and resuming runs, on every World (memory, a real SQLite file, a real PostgreSQL
 * server): a run paused mid-fan-out lets its steps in flight finish (status `pausing`, then
 * `paused`), takes no new step, stays paused when its worker stops and another starts, and
 * completes after `resume`; sleeps that come due and events that arrive while it is paused are
 * kept and delivered on resume; a pause with `abortSteps` aborts the steps' signals and runs them
 * again after the resume; the typed errors of pause and resume in the wrong state, and concurrent
 * controls of one run leave a consistent log. (Real processes: test/e2e/pause.test.ts.)
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getRun, sendEvent, shutdown, start } from "../../src/api/index.ts";
import { RunNotPausedError } from "../../src/errors/control.ts";
import type { StepAbortedError } from "../../src/errors/step.ts";
import { RunFinishedError, RunNotFoundError } from "../../src/errors/world.ts";
import { getStepMetadata } from "../../src/index.ts";
import { type RunReport, Worker, type WorkerOptions } from "../../src/runtime/worker.ts";
import type { RunStatus, World } from "../../src/world/types.ts";
import { everyWorld, until, type WorldEnv } from "../helpers/every-world.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

/** Each step's attempts, by label, in the order they began. */
const began = new Map<string, number[]>();
/** Gates steps wait on, opened by the test. */
const gates = new Map<string, () => void>();
/** Abort reasons steps saw. */
const abortReasons: string[] = [];

function note(label: string): void {
  began.set(label, [...(began.get(label) ?? []), getStepMetadata().attempt]);
}

async function gated(label: string): Promise<string> {
  note(label);
  await new Promise<void>((resolve) => gates.set(label, resolve));
  return `${label} done`;
}

async function plain(label: string): Promise<string> {
  note(label);
  return `${label} done`;
}

/** Stops when its signal aborts on attempt 1 (by throwing the reason); later attempts succeed. */
async function stopsWhenTold(label: string): Promise<string> {
  note(label);
  const { attempt, signal } = getStepMetadata();
  if (attempt === 1) {
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    abortReasons.push((signal.reason as StepAbortedError).reason);
    throw signal.reason;
  }
  return `${label} done@${attempt}`;
}

const wf = defineWorkflows("test/pause.ts", {
  steps: { gated, plain, stopsWhenTold },
  workflows: {
    fanOut: ({ steps }) =>
      async function fanOut(label: string) {
        const both = await Promise.all([steps.gated(`${label}-a`), steps.gated(`${label}-b`)]);
        return [...both, await steps.plain(`${label}-after`)];
      },
    sleeper: ({ steps, api }) =>
      async function sleeper(label: string) {
        await api.sleep("300ms");
        return await steps.plain(`${label}-after`);
      },
    waiter: ({ api }) =>
      async function waiter() {
        const event = await api.waitForEvent<{ n: number }>("go", { timeout: "1h" });
        return event.payload.n;
      },
    aborting: ({ steps }) =>
      async function aborting(label: string) {
        return await steps.stopsWhenTold(label);
      },
  },
});

const { worlds: WORLDS, stop } = everyWorld("pause");
afterAll(stop);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
  const status = async (runId: string): Promise<RunStatus> => (await world.runs.get(runId)).status;
  /** Waits until the run waits (a sleep or an event wait) and no worker holds it. */
  const parked = (runId: string) =>
    until(`run ${runId} to wait with no worker holding it`, async () => {
      const [waits, run] = await Promise.all([world.waits.list({ runId }), world.runs.get(runId)]);
      return waits.length === 1 && run.lease === undefined;
    });
  const controlEvents = async (runId: string) =>
    (await world.events.list(runId))
      .map((event) => event.type)
      .filter((type) => type.startsWith("run_") && type !== "run_created" && type !== "run_started");
  /**
   * Waits until a pause of an idle run is recorded, and returns its control events. The client
   * records `run_paused` itself when it gets the run's lease first; when the worker that woke for
   * the request gets it first, the worker records `run_pausing`, then `run_paused`: both are right.
   */
  const pausedIdle = async (runId: string) => {
    await until("the run to be paused", async () => (await status(runId)) === "paused");
    const events = await controlEvents(runId);
    expect([["run_paused"], ["run_pausing", "run_paused"]]).toContainEqual(events);
    return events;
  };

  beforeEach(async () => {
    began.clear();
    gates.clear();
    abortReasons.length = 0;
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

  it("a run paused mid-fan-out finishes its steps in flight, stays paused across a worker restart, and completes after resume", async () => {
    const first = startWorker();
    const run = await start(wf.fanOut, ["fan"]);
    await until("both steps to begin", () => gates.has("fan-a") && gates.has("fan-b"));
    await run.pause();
    // Its steps in flight are finishing: Cloudflare's waitingForPause.
    expect(await status(run.runId)).toBe("pausing");
    gates.get("fan-a")?.();
    gates.get("fan-b")?.();
    await until("the run to be paused", async () => (await status(run.runId)) === "paused");
    // The worker reports once its append has returned, which may be just after the status shows.
    await until("the worker to report the run paused", () => reports.at(-1)?.outcome === "paused");
    // Both results are recorded; the step after them was not taken.
    const steps = await world.steps.list(run.runId);
    expect(steps.map((step) => step.status)).toEqual(["completed", "completed"]);
    expect(began.has("fan-after")).toBe(false);

    // A new worker (the old one stopped) leaves it paused, even when something wakes it.
    await first.stop();
    startWorker();
    await world.queue.enqueue([{ runId: run.runId, kind: "wake" }]);
    await until(
      "the wake-up to be answered",
      () => reports.at(-1)?.outcome === "paused" && reports.length >= 2,
    );
    await sleep(100);
    expect(await status(run.runId)).toBe("paused");
    expect(began.has("fan-after")).toBe(false);

    await run.resume();
    expect(await run.returnValue).toEqual(["fan-a done", "fan-b done", "fan-after done"]);
    expect(began.get("fan-after")).toEqual([1]);
    expect(await controlEvents(run.runId)).toEqual([
      "run_pausing",
      "run_paused",
      "run_resumed",
      "run_completed",
    ]);
  });

  it("a sleep that comes due while the run is paused waits for the resume", async () => {
    startWorker({ holdMs: 0 });
    const run = await start(wf.sleeper, ["nap"]);
    await parked(run.runId);
    // Nobody drives a sleeping run: the pause is recorded at once.
    await run.pause();
    expect(await status(run.runId)).toBe("paused");
    await sleep(600);
    const [wait] = await world.waits.list({ runId: run.runId });
    expect(wait?.status).toBe("waiting");
    expect(began.has("nap-after")).toBe(false);
    await run.resume();
    expect(await run.returnValue).toBe("nap-after done");
    expect(await controlEvents(run.runId)).toEqual(["run_paused", "run_resumed", "run_completed"]);
  });

  it("an event sent while the run is paused is kept and delivered on resume", async () => {
    startWorker();
    const run = await start(wf.waiter, []);
    await until(
      "the wait to be recorded",
      async () => (await world.waits.list({ runId: run.runId })).length === 1,
    );
    await run.pause();
    await until("the run to be paused", async () => (await status(run.runId)) === "paused");
    await sendEvent(run.runId, "go", { n: 7 });
    await sleep(300);
    expect(await status(run.runId)).toBe("paused");
    expect((await world.inbox.list(run.runId)).map((item) => item.kind)).toEqual(["event"]);
    await run.resume();
    expect(await run.returnValue).toBe(7);
  });

  it("pause with abortSteps aborts the steps' signals; a step that stops runs again after the resume", async () => {
    startWorker();
    const run = await start(wf.aborting, ["stop"]);
    await until("the step to begin", () => began.has("stop"));
    await run.pause({ abortSteps: true });
    await until("the run to be paused", async () => (await status(run.runId)) === "paused");
    expect(abortReasons).toEqual(["paused"]);
    // Stopping on request is not a failure: no outcome was recorded for attempt 1.
    expect((await world.events.list(run.runId)).filter((e) => e.type === "step_retrying")).toEqual([]);
    await run.resume();
    expect(await run.returnValue).toBe("stop done@2");
    expect(began.get("stop")).toEqual([1, 2]);
  });

  it("a paused run can be restarted: the new generation is not paused, and stale pause requests are dropped", async () => {
    startWorker({ holdMs: 0 });
    const run = await start(wf.sleeper, ["again"]);
    await parked(run.runId);
    await run.pause();
    const paused = await pausedIdle(run.runId);
    // Asked again with abortSteps: nothing to abort, the request waits in the inbox.
    await run.pause({ abortSteps: true });
    expect((await world.inbox.list(run.runId)).map((item) => item.kind)).toEqual(["pause_abort"]);
    await run.restart();
    expect(await run.returnValue).toBe("again-after done");
    expect(await controlEvents(run.runId)).toEqual([
      ...paused,
      "run_cancelled",
      "run_restarted",
      "run_completed",
    ]);
    expect(await world.inbox.list(run.runId)).toEqual([]);
  });

  it("refuses controls in the wrong state with typed errors, writing nothing", async () => {
    startWorker();
    await expect(getRun("wrun_missing").pause()).rejects.toSatisfy((e) => RunNotFoundError.is(e));
    await expect(getRun("wrun_missing").resume()).rejects.toSatisfy((e) => RunNotFoundError.is(e));

    const running = await start(wf.waiter, []);
    await parked(running.runId);
    const before = (await world.events.list(running.runId)).length;
    const notPaused = await getRun(running.runId)
      .resume()
      .catch((error: unknown) => error);
    expect(RunNotPausedError.is(notPaused)).toBe(true);
    expect((notPaused as Error).message).toMatch(/is not paused \(status: running\).*Pause it first/);
    expect((await world.events.list(running.runId)).length).toBe(before);

    // Pausing twice changes nothing the second time.
    await running.pause();
    const paused = await pausedIdle(running.runId);
    await running.pause();
    expect(await controlEvents(running.runId)).toEqual(paused);

    // A paused run can be cancelled.
    await running.cancel();
    expect(await status(running.runId)).toBe("cancelled");
    const finished = await running.pause().catch((error: unknown) => error);
    expect(RunFinishedError.is(finished)).toBe(true);
    expect((finished as Error).message).toMatch(/has already ended \(status: cancelled\).*cannot be paused/);
    await expect(running.resume()).rejects.toSatisfy((e) => RunFinishedError.is(e));
    expect(await controlEvents(running.runId)).toEqual([...paused, "run_cancelled"]);
    expect(await world.inbox.list(running.runId)).toEqual([]);
  });

  it("concurrent pause, resume and cancel of one run: each gets an answer and the log stays consistent", async () => {
    startWorker();
    for (let round = 0; round < 5; round++) {
      const run = await start(wf.waiter, []);
      await until("the wait", async () => (await world.waits.list({ runId: run.runId })).length === 1);
      if (round % 2 === 1) await run.pause();
      const results = await Promise.allSettled([run.pause(), run.resume(), run.cancel(), run.pause()]);
      for (const result of results) {
        if (result.status === "rejected") {
          const error = result.reason as Error;
          expect(RunFinishedError.is(error) || RunNotPausedError.is(error), String(error)).toBe(true);
        }
      }
      // The cancel always wins in the end; the log is a sequence of valid transitions.
      expect(await status(run.runId)).toBe("cancelled");
      const events = await controlEvents(run.runId);
      expect(events.at(-1)).toBe("run_cancelled");
      let paused = false;
      for (const type of events.slice(0, -1)) {
        if (type === "run_paused" || type === "run_pausing") paused = true;
        if (type === "run_resumed") {
          expect(paused).toBe(true);
          paused = false;
        }
      }
    }
  });
});
