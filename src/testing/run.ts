/**
 * `TestRun`: the handle `env.start()` returns, like the API's `Run` but on the test
 * environment's World: its status, its return value (once the run ends, the virtual clock moving
 * as it must), and its log and steps decoded.
 */
import { waitForRun } from "../client/watch.ts";
import { WorkflowRunCancelledError, WorkflowRunFailedError } from "../errors/runtime.ts";
import { decodeValue } from "../serde/codec.ts";
import type { PayloadCodec } from "../serde/payload.ts";
import { places } from "../serde/places.ts";
import { type RunRecord, type RunStatus, TERMINAL_RUN_STATUSES, type World } from "../world/types.ts";
import { readEvents, readSteps, type TestEvent, type TestStep } from "./records.ts";

const isTerminal = (status: RunStatus): boolean => TERMINAL_RUN_STATUSES.has(status);

export class TestRun<Result = unknown> {
  readonly runId: string;
  readonly #world: World;
  readonly #codec: PayloadCodec;

  /** @internal made by `env.start()`. */
  constructor(runId: string, world: World, codec: PayloadCodec) {
    this.runId = runId;
    this.#world = world;
    this.#codec = codec;
  }

  #decode(run: RunRecord, place: string, bytes: Uint8Array | undefined): unknown {
    return bytes === undefined ? undefined : decodeValue(this.#codec.decode(run, place, bytes));
  }

  /** The run's status now: 'pending' | 'running' | 'pausing' | 'paused' | 'completed' | 'failed' | 'cancelled'. */
  get status(): Promise<RunStatus> {
    return this.#world.runs.get(this.runId).then((run) => run.status);
  }

  /**
   * The workflow's return value, once the run ends (with auto-advance on, sleeps and retries
   * pass at once). Rejects with `WorkflowRunFailedError` (its `cause` is what the workflow threw)
   * or `WorkflowRunCancelledError`. A run waiting for a hook or an event waits until you send it.
   */
  get returnValue(): Promise<Result> {
    return (async () => {
      const run = await waitForRun(this.#world, this.runId, (r) => isTerminal(r.status), {
        hint: isTerminal,
      });
      if (run.status === "completed") return this.#decode(run, places.runOutput, run.output) as Result;
      if (run.status === "cancelled") throw new WorkflowRunCancelledError(run.runId);
      throw new WorkflowRunFailedError(run.runId, this.#decode(run, places.runError, run.error));
    })();
  }

  /** The run's log so far, decoded (see `env.events`). */
  events(): Promise<TestEvent[]> {
    return readEvents(this.#world, this.#codec, this.runId);
  }

  /** The run's steps so far, decoded (see `env.steps`). */
  steps(): Promise<TestStep[]> {
    return readSteps(this.#world, this.#codec, this.runId);
  }
}
