/**
 * Why a step attempt was told to stop. Each attempt's `getStepMetadata().signal` aborts with one of
 * these as its `reason`: a `StepTimeoutError` when the attempt ran past the step's `timeout` (the
 * attempt then counts as failed, and this error is what the log records), or a `StepAbortedError`
 * naming why the attempt's result is no longer wanted: the run was cancelled or ended, this worker
 * lost the run's lease, or the worker is shutting down. Both cross the sandbox boundary and the log
 * like every Stepwise error (`static is()`, a stable code).
 */
import { registerErrorCode, StepwiseError, type StepwiseErrorOptions } from "./base.ts";

/**
 * Why an attempt's signal aborted. timeout: the attempt ran past the step's timeout; cancelled: the
 * run was cancelled; run-ended: the run completed or failed while the step ran (a `Promise.race`,
 * a `Promise.all` that rejected early); lease-lost: this worker no longer drives the run (another
 * took it over); shutdown: the worker is stopping; paused: the run was paused with
 * `{ abortSteps: true }`.
 */
export type StepAbortReason = "timeout" | "cancelled" | "run-ended" | "lease-lost" | "shutdown" | "paused";

/** The attempt an abort is about. */
export interface StepAttempt {
  runId: string;
  stepName: string;
  /** 1 for the first attempt. */
  attempt: number;
}

const WHY: Record<Exclude<StepAbortReason, "timeout">, (at: string) => string> = {
  cancelled: (at) =>
    `The run was cancelled while ${at} was running: its result will be discarded. Stop the step's work when getStepMetadata().signal aborts.`,
  "run-ended": (at) =>
    `The run ended while ${at} was still running: its result will be discarded. Stop the step's work when getStepMetadata().signal aborts.`,
  "lease-lost": (at) =>
    `This worker stopped driving the run (its lease ran out and another worker took over, or driving it failed here) while ${at} was running: its result will be discarded, and the step runs again where the run goes on. Stop the step's work when getStepMetadata().signal aborts.`,
  shutdown: (at) =>
    `The worker is shutting down while ${at} was running. If the step stops now, it runs again on the next worker (as an interrupted attempt, not a failed one); if it finishes, its result is recorded.`,
  paused: (at) =>
    `The run was paused (with abortSteps) while ${at} was running. If the step stops now, it runs again when the run is resumed (as an interrupted attempt, not a failed one); if it finishes, its result is recorded.`,
};

/**
 * The `reason` of a step attempt's aborted signal: says why the attempt should stop (`reason`) and
 * which attempt it was. Catch it with `StepAbortedError.is(signal.reason)`.
 */
export class StepAbortedError extends StepwiseError {
  static override readonly code: string = "STEP_ABORTED";
  readonly reason: StepAbortReason;
  readonly runId: string;
  readonly stepName: string;
  readonly attempt: number;

  constructor(
    reason: StepAbortReason,
    attempt: StepAttempt,
    message?: string,
    options?: StepwiseErrorOptions,
  ) {
    const at = `step ${attempt.stepName} (run ${attempt.runId}, attempt ${attempt.attempt})`;
    super(message ?? (reason === "timeout" ? `${at} timed out.` : WHY[reason](at)), options);
    this.reason = reason;
    this.runId = attempt.runId;
    this.stepName = attempt.stepName;
    this.attempt = attempt.attempt;
  }
}
registerErrorCode(StepAbortedError.code, StepwiseError.code);

/**
 * A step attempt ran past its `timeout`. The attempt counts as failed and is retried under the
 * step's retry policy; when no attempt is left, the workflow's `await` rejects with this error.
 * `timeoutMs` is the timeout that ran out.
 */
export class StepTimeoutError extends StepAbortedError {
  static override readonly code: string = "STEP_TIMEOUT";
  readonly timeoutMs: number;

  constructor(attempt: StepAttempt, timeoutMs: number, options?: StepwiseErrorOptions) {
    super(
      "timeout",
      attempt,
      `Step ${attempt.stepName} timed out after ${formatMs(timeoutMs)} (attempt ${attempt.attempt}, run ${attempt.runId}): it was still running when its timeout ran out. The attempt counts as failed and is retried under the step's retry policy; its late result, if any, is discarded. Make the step stop when getStepMetadata().signal aborts, or raise its timeout (fn.timeout).`,
      options,
    );
    this.timeoutMs = timeoutMs;
  }
}
registerErrorCode(StepTimeoutError.code, StepAbortedError.code);

const UNITS: readonly [number, string][] = [
  [24 * 60 * 60 * 1000, "d"],
  [60 * 60 * 1000, "h"],
  [60 * 1000, "m"],
  [1000, "s"],
];

/** `30s`, `5m`, `2h`, `1500ms`: the largest unit that says it exactly. */
function formatMs(ms: number): string {
  for (const [size, unit] of UNITS) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
