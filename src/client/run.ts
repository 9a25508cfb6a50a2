/**
 * `Run`: a handle on a workflow run, by id, through the client that made it. Every property reads
 * the client's World when awaited, so a handle is cheap and always current; every control it has
 * (`sendEvent`, `pause`, `resume`, `restart`, `cancel`) is its client's. `returnValue` resolves the moment the run ends: it listens
 * for the World's change notifications instead of polling on a timer.
 */
import { WorkflowRunCancelledError, WorkflowRunFailedError } from "../errors/runtime.ts";
import { durableReadable, streamName } from "../runtime/streams.ts";
import { decodeValue } from "../serde/codec.ts";
import type { PayloadCodec } from "../serde/payload.ts";
import { places } from "../serde/places.ts";
import { type RunRecord, type RunStatus, TERMINAL_RUN_STATUSES } from "../world/types.ts";
import type { Client } from "./client.ts";
import type { PauseOptions } from "./control.ts";
import { defaultClient } from "./default.ts";
import type { SentEvent } from "./events.ts";
import type { RestartedRun, RestartOptions } from "./restart.ts";
import { waitForRun } from "./watch.ts";

function decodeStored(
  payloads: PayloadCodec,
  run: RunRecord,
  place: string,
  bytes: Uint8Array | undefined,
): unknown {
  return bytes === undefined ? undefined : decodeValue(payloads.decode(run, place, bytes));
}

export type WorkflowRunStatus = RunStatus;

const isTerminal = (status: RunStatus): boolean => TERMINAL_RUN_STATUSES.has(status);

export class Run<Result = unknown> {
  readonly runId: string;
  readonly #client: Client;

  /** A handle on run `runId` through `client` (default: the process's, as `getRun` gives). */
  constructor(runId: string, client: Client = defaultClient()) {
    this.runId = runId;
    this.#client = client;
  }

  async #record(): Promise<RunRecord> {
    return (await this.#client.world()).runs.get(this.runId);
  }

  /**
   * 'pending' | 'running' | 'pausing' | 'paused' | 'completed' | 'failed' | 'cancelled'
   * (`pausing` is Cloudflare's `waitingForPause`: steps in flight are finishing). `RunNotFoundError`
   * for an unknown id.
   */
  get status(): Promise<WorkflowRunStatus> {
    return this.#record().then((run) => run.status);
  }

  get workflowName(): Promise<string> {
    return this.#record().then((run) => run.workflowName);
  }

  get createdAt(): Promise<Date> {
    return this.#record().then((run) => new Date(run.createdAt));
  }

  get startedAt(): Promise<Date | undefined> {
    return this.#record().then((run) => (run.startedAt === undefined ? undefined : new Date(run.startedAt)));
  }

  get completedAt(): Promise<Date | undefined> {
    return this.#record().then((run) =>
      run.completedAt === undefined ? undefined : new Date(run.completedAt),
    );
  }

  /**
   * The workflow's return value, once the run completes. Rejects with `WorkflowRunFailedError`
   * (its `cause` is the error the workflow threw) or `WorkflowRunCancelledError`.
   */
  get returnValue(): Promise<Result> {
    return (async () => {
      const world = await this.#client.world();
      const run = await waitForRun(world, this.runId, (r) => isTerminal(r.status), { hint: isTerminal });
      const payloads = this.#client.payloadCodec();
      if (run.status === "completed") {
        return decodeStored(payloads, run, places.runOutput, run.output) as Result;
      }
      if (run.status === "cancelled") throw new WorkflowRunCancelledError(run.runId);
      throw new WorkflowRunFailedError(run.runId, decodeStored(payloads, run, places.runError, run.error));
    })();
  }

  /**
   * The run's durable stream (or the one named `namespace`) from `startIndex` (default 0; negative
   * counts from the end), then live until the stream closes or the run ends. A client that
   * disconnects reads again from the index after the last chunk it saw. The stream errors with
   * `StreamRangeError` for a start past the end, `RunNotFoundError` for an unknown run.
   */
  getReadable<Chunk = unknown>(
    options: { namespace?: string; startIndex?: number } = {},
  ): ReadableStream<Chunk> {
    const name = streamName(options.namespace);
    const readOptions = options.startIndex === undefined ? {} : { startIndex: options.startIndex };
    return durableReadable(
      { world: this.#client.world(), payloads: this.#client.payloadCodec(), runId: this.runId, name },
      readOptions,
    ) as ReadableStream<Chunk>;
  }

  /** The run's default stream from its first chunk (see `getReadable`). */
  get readable(): ReadableStream<unknown> {
    return this.getReadable();
  }

  /**
   * Sends an event to the run: its first `waitForEvent(type)` that has not received one takes it,
   * now or when the workflow gets there (see `sendEvent` for the errors; none writes anything).
   */
  sendEvent(type: string, payload?: unknown): Promise<SentEvent> {
    return this.#client.sendEvent(this.runId, type, payload);
  }

  /**
   * Pauses the run: it takes no new step, and sleeps that come due, hook payloads and events that
   * arrive are kept for the resume. Steps executing now finish first and are recorded (status
   * `pausing`, then `paused`); with `{ abortSteps: true }` their signals abort too, and a step that
   * stops then runs again after the resume. Resolves once the pause is recorded. A paused run
   * stays paused across worker restarts. `RunNotFoundError` for an unknown id; `RunFinishedError`
   * for a run that has ended; pausing a paused run changes nothing.
   */
  pause(options: PauseOptions = {}): Promise<void> {
    return this.#client.pauseRun(this.runId, options);
  }

  /**
   * Resumes a paused run: what came due or arrived while it was paused is delivered now, and its
   * steps run again. Resolves once the resume is recorded. `RunNotFoundError` for an unknown id;
   * `RunFinishedError` for a run that has ended; `RunNotPausedError` for a run that is not paused.
   */
  resume(): Promise<void> {
    return this.#client.resumeRun(this.runId);
  }

  /**
   * Starts the run again under the same id: from the beginning, or with `{ from: { step, occurrence
   * } }` from the `occurrence`-th call (default the first) of a step, keeping the recorded outcomes
   * of every call the workflow made before that one; that step and everything after it execute
   * again (with new step ids). The earlier history stays in the log (`inspect events` shows each
   * generation). A run that has not ended is stopped first, as `cancel()` stops it. Resolves once
   * the restart is recorded (the run is then `pending` until a worker takes it). Errors, which
   * leave the run as it was: `RunNotFoundError`, `InvalidRestartPointError`,
   * `RestartStepNotFoundError` (it lists the steps the run called), `RestartConflictError` (another
   * restart landed first, or a hook it keeps lost its token: if that happened only while it was
   * being stopped, it stays stopped).
   */
  restart(options: RestartOptions = {}): Promise<RestartedRun> {
    return this.#client.restartRun(this.runId, options);
  }

  /**
   * Cancels the run (Cloudflare's terminate): it ends at once with status 'cancelled', and the
   * signals of its steps executing now abort (`getStepMetadata().signal`, reason a
   * `StepAbortedError` "cancelled"; the durable `fetch` passes it on). A step that ignores its
   * signal finishes in the background, and its result is discarded. Resolves once the run has
   * ended (immediately if it already had). `RunNotFoundError` for an unknown id.
   */
  cancel(): Promise<void> {
    return this.#client.cancelRun(this.runId);
  }
}
