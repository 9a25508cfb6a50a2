/**
 * The errors of run control (pause, resume): a control asked of a run in a state where it means
 * nothing. Each is a `ConflictError` (409 over HTTP), with a stable code. Asking to pause or
 * resume a run that has ended is a `RunFinishedError` (errors/world.ts), as for every write.
 */
import { registerErrorCode } from "./base.ts";
import { ConflictError } from "./world.ts";

/** `resume` of a run that is not paused (nor being paused): there is nothing to resume. */
export class RunNotPausedError extends ConflictError {
  static override readonly code: string = "RUN_NOT_PAUSED";
  readonly runId: string;
  readonly status: string;
  constructor(runId: string, status: string) {
    super(
      `Run ${runId} is not paused (status: ${status}), so there is nothing to resume. Pause it first (run.pause(), npx stepwise pause ${runId}); read its status with npx stepwise inspect runs ${runId}.`,
    );
    this.runId = runId;
    this.status = status;
  }
}
registerErrorCode(RunNotPausedError.code, ConflictError.code);
