/**
 * `createTestEnv()`: an in-process Stepwise for a test. It has its own World (a fresh memory
 * World unless one is passed), its own worker and payload codec, and a virtual clock that the
 * World, the worker and every run read, so `sleep("7 days")`, retry backoffs, event waits'
 * timeouts and step timeouts pass at once (auto-advance) or when the test says
 * (`advance`/`advanceTo`). It never touches the process runtime of `stepwise-workflows/api`
 * (`configure`, `getWorld`, the in-process worker): runs started here live in the environment's
 * World and are driven by its worker alone, and the process's World never sees them.
 */
import { type SentEvent, sendEventIn } from "../client/events.ts";
import { resumeHookIn } from "../client/hooks.ts";
import type { StartArguments, StartableWorkflow, StartOptions } from "../client/start.ts";
import { prepareRuns } from "../client/start.ts";
import type { SealContext } from "../client/store.ts";
import { InvalidRunIdError } from "../errors/runtime.ts";
import { type Limits, limitsFromEnv } from "../runtime/limits.ts";
import { getStep, resolveWorkflowId, stepIdOf } from "../runtime/registry.ts";
import { Worker } from "../runtime/worker.ts";
import { createPayloadCodec, type PayloadCodec } from "../serde/payload.ts";
import { parseDurationMs } from "../util/duration.ts";
import type { World } from "../world/types.ts";
import { createMemoryWorld } from "../worlds/memory/index.ts";
import { Pacer } from "./pacer.ts";
import { readEvents, readSteps, type TestEvent, type TestStep } from "./records.ts";
import { TestRun } from "./run.ts";
import { VirtualClock } from "./virtual-clock.ts";

/** Options of `createTestEnv()`. */
export interface TestEnvOptions {
  /**
   * Jump the clock to the next due time whenever nothing runs and nothing is delivered (default
   * true). With false, time moves only with `advance` / `advanceTo`.
   */
  autoAdvance?: boolean;
  /** Where the virtual clock starts (default: the wall clock's now). */
  startAt?: Date | number;
  /**
   * A World made with `now: clock` (the function `createTestEnv` passes to `world`), when the
   * test needs another World than a fresh memory one. It is closed by `env.close()`.
   */
  world?: (now: () => number) => World;
  /**
   * How long (real milliseconds) steps in flight may stay silent before auto-advance takes them
   * to be waiting and moves the clock to their next timer (a step timeout). Default 100.
   */
  settleMs?: number;
  /** Payload limits (default: STEPWISE_MAX_PAYLOAD_BYTES / STEPWISE_MAX_RUN_BYTES or the defaults). */
  limits?: Limits;
  /** Where the worker reports problems (default: console.warn). */
  warn?: (message: string, error?: unknown) => void;
}

type Body = (...args: unknown[]) => unknown;

/** An in-process test environment: see `createTestEnv`. */
export interface TestEnv extends AsyncDisposable {
  /** The environment's World (for reads the helpers below do not cover). */
  readonly world: World;
  /** The virtual time now. */
  now(): Date;
  /**
   * Starts a run of `workflow` with `args` on this environment (`start()`'s rules and errors:
   * `{ id }` for a chosen run id). Returns at once; await `run.returnValue` for the result.
   */
  start<Args extends unknown[], Result>(
    workflow: StartableWorkflow<Args, Result>,
    ...rest: StartArguments<Args>
  ): Promise<TestRun<Result>>;
  /** A handle on run `runId` of this environment. */
  getRun<Result = unknown>(runId: string): TestRun<Result>;
  /** Sends `payload` to the hook listening on `token` (`resumeHook`'s errors). */
  resumeHook(token: string, payload: unknown): Promise<void>;
  /** Sends an event to run `runId` (`sendEvent`'s rules and errors). */
  sendEvent(runId: string, type: string, payload?: unknown): Promise<SentEvent>;
  /**
   * Runs `impl` instead of the body of step `step` (the step function, or its id) in this
   * environment, until `close()` or the returned function is called. The step keeps its
   * options (retries, timeout). `Error` when `step` is not a registered step.
   */
  mockStep<Args extends unknown[], R>(
    step: ((...args: Args) => R) | string,
    impl: (...args: Args) => R | Awaited<R> | Promise<Awaited<R>>,
  ): () => void;
  /** Run `runId`'s log, decoded. */
  events(runId: string): Promise<TestEvent[]>;
  /** Run `runId`'s steps, decoded. */
  steps(runId: string): Promise<TestStep[]>;
  /**
   * Moves the clock forward by `duration` (`"1 day"`, milliseconds): each due time on the way in
   * turn, letting what it wakes run (and schedule more within the span) before the next; resolves
   * once everything due by then has run as far as it can.
   */
  advance(duration: string | number): Promise<void>;
  /** Moves the clock to `date` (never back), as `advance` does. */
  advanceTo(date: Date | number): Promise<void>;
  /** Resolves once nothing runs and nothing is due now (the clock is not moved). */
  settled(): Promise<void>;
  /** Turns auto-advance on or off. */
  setAutoAdvance(on: boolean): void;
  /** Stops the worker, drops the mocks and closes the World. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates a test environment (see the file header): `const env = await createTestEnv()`, then
 * `env.start(workflow, args)`, and `await env.close()` after the test (or `await using env = …`).
 */
export async function createTestEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  const start = options.startAt ?? Date.now();
  const clock = new VirtualClock(typeof start === "number" ? start : start.getTime());
  const world = options.world ? options.world(clock.now) : createMemoryWorld({ now: clock.now });
  const payloads: PayloadCodec = createPayloadCodec();
  const limits = options.limits ?? limitsFromEnv();
  const using: SealContext = { payloads, limits };
  const mocks = new Map<string, Body>();
  const worker = new Worker({
    world,
    payloads,
    limits,
    clock,
    // Every wait goes through the queue, so the pacer sees it; leases outlast any test (~49 days
    // of virtual time with a step in flight; the heartbeat is real time).
    holdMs: 0,
    leaseMs: 2 ** 32,
    stepBodies: (stepName) => mocks.get(stepName),
    // Only this process will ever run these runs: a step it lacks fails at once, loudly.
    missingSteps: "fail",
    ...(options.warn ? { warn: options.warn } : {}),
  });
  worker.start();
  const pacer = new Pacer({
    world,
    worker,
    clock,
    autoAdvance: options.autoAdvance ?? true,
    settleMs: options.settleMs ?? 100,
  });
  let closing: Promise<void> | undefined;

  // Step by step: each timer on the way fires at its time and what it wakes runs before the next,
  // so work it schedules within the span (a retry's backoff) comes due within it too.
  const advanceTo = async (to: number): Promise<void> => {
    for (;;) {
      await pacer.settled();
      const next = clock.nextTimerAt();
      if (next === undefined || next > to) break;
      pacer.advanceTo(next);
    }
    pacer.advanceTo(to);
    await pacer.settled();
  };

  const env: TestEnv = {
    world,
    now: () => new Date(clock.now()),
    async start(workflow, ...rest) {
      const workflowId = resolveWorkflowId(workflow);
      const [args, startOptions] = rest as [unknown, StartOptions | undefined];
      if (startOptions !== undefined && (typeof startOptions !== "object" || startOptions === null)) {
        throw new InvalidRunIdError(
          startOptions,
          `env.start(${workflowId}, args, options) takes its options as an object, e.g. { id: "order-1234" }.`,
        );
      }
      const [input] = prepareRuns(workflowId, [{ args: args ?? [], id: startOptions?.id }], using);
      const [created] = await world.runs.createMany(input === undefined ? [] : [input]);
      if (created === undefined) throw new Error(`env.start(${workflowId}) created no run.`);
      return new TestRun(created.run.runId, world, payloads);
    },
    getRun: (runId) => new TestRun(runId, world, payloads),
    async resumeHook(token, payload) {
      await resumeHookIn(world, using, token, payload);
    },
    sendEvent: (runId, type, payload) => sendEventIn(world, using, runId, type, payload),
    mockStep(step, impl) {
      const stepName = typeof step === "string" ? step : stepIdOf(step);
      if (stepName === undefined || getStep(stepName) === undefined) {
        const shown = typeof step === "string" ? step : step.name || "(anonymous)";
        throw new Error(
          `env.mockStep: ${shown} is not a registered step. Pass a function marked "use step" (imported from its module, with the compiler loaded: node --import stepwise-workflows/register) or a step id like step//src/file.ts//name.`,
        );
      }
      const body = impl as Body;
      mocks.set(stepName, body);
      return () => {
        if (mocks.get(stepName) === body) mocks.delete(stepName);
      };
    },
    events: (runId) => readEvents(world, payloads, runId),
    steps: (runId) => readSteps(world, payloads, runId),
    advance: (duration) => advanceTo(clock.now() + parseDurationMs(duration, "env.advance")),
    advanceTo: (date) => advanceTo(typeof date === "number" ? date : date.getTime()),
    settled: () => pacer.settled(),
    setAutoAdvance(on) {
      pacer.autoAdvance = on;
    },
    close() {
      closing ??= (async () => {
        await pacer.close();
        await worker.stop();
        mocks.clear();
        await world.close();
      })();
      return closing;
    },
    [Symbol.asyncDispose]: () => env.close(),
  };
  return env;
}
