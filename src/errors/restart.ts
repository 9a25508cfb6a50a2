/**
 * The errors of `run.restart()`: a restart point that is malformed or names a step the run never
 * called, and a restart that lost to another (or whose kept hooks lost their tokens). Like every
 * Stepwise error they carry a stable code and are recognised across realms with `static is()`.
 */
import { registerErrorCode, StepwiseError } from "./base.ts";
import { ConflictError } from "./world.ts";

/** `restart({ from })` was given something that is not a restart point: nothing was done. */
export class InvalidRestartPointError extends StepwiseError {
  static override readonly code: string = "INVALID_RESTART_POINT";
}
registerErrorCode(InvalidRestartPointError.code, StepwiseError.code);

/**
 * `restart({ from: { step, occurrence } })` names a step the run's current generation never
 * called (or called fewer times than `occurrence`). Nothing was written; `calledSteps` lists the
 * step names it did call, in the order it first called them.
 */
export class RestartStepNotFoundError extends StepwiseError {
  static override readonly code: string = "RESTART_STEP_NOT_FOUND";
  readonly runId: string;
  readonly step: string;
  readonly occurrence: number;
  /** The short names of the steps the run called, in the order it first called them. */
  readonly calledSteps: readonly string[];
  constructor(
    runId: string,
    step: string,
    occurrence: number,
    calls: number,
    calledSteps: readonly string[],
  ) {
    const called =
      calledSteps.length === 0
        ? "it has not called any step yet (restart it from the beginning: restart() without from)"
        : `the steps it called are: ${calledSteps.join(", ")}`;
    super(
      calls === 0
        ? `Run ${runId} never called a step named "${step}", so it cannot be restarted from it; ${called}. Nothing was done.`
        : `Run ${runId} called step "${step}" ${calls === 1 ? "once" : `${calls} times`}, so it cannot be restarted from call ${occurrence} of it: pass an occurrence from 1 to ${calls}. Nothing was done.`,
    );
    this.runId = runId;
    this.step = step;
    this.occurrence = occurrence;
    this.calledSteps = calledSteps;
  }
}
registerErrorCode(RestartStepNotFoundError.code, StepwiseError.code);

/**
 * Why a restart could not be written: another restart of the same run landed first
 * (`restarted-meanwhile`), or a hook the restart would keep listening lost its token to another
 * run's hook meanwhile (`hook-token-taken`).
 */
export type RestartConflictReason = "restarted-meanwhile" | "hook-token-taken";

/** A restart lost a race (see `RestartConflictReason`); this call wrote no restart. */
export class RestartConflictError extends ConflictError {
  static override readonly code: string = "RESTART_CONFLICT";
  readonly runId: string;
  readonly reason: RestartConflictReason;
  constructor(runId: string, reason: RestartConflictReason, message: string) {
    super(message);
    this.runId = runId;
    this.reason = reason;
  }
}
registerErrorCode(RestartConflictError.code, ConflictError.code);
