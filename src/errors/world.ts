/**
 * The error contract every World honours. The conformance suite checks that each World throws these
 * same errors for the same situations, so code above the World never needs to know which one it has.
 */
import { registerErrorCode, StepwiseError, type StepwiseErrorOptions } from "./base.ts";

/** A run, step, hook or stream that was asked for does not exist. */
export class NotFoundError extends StepwiseError {
  static override readonly code: string = "NOT_FOUND";
}
registerErrorCode(NotFoundError.code, StepwiseError.code);

/** No run has this id. */
export class RunNotFoundError extends NotFoundError {
  static override readonly code: string = "RUN_NOT_FOUND";
  readonly runId: string;
  constructor(runId: string) {
    super(
      `No run with id "${runId}" exists. Check the id (generated run ids look like wrun_01J...; others are the ids given to start()), and that this process uses the same World (STEPWISE_WORLD, STEPWISE_DATA_DIR) as the one that started it.`,
    );
    this.runId = runId;
  }
}
registerErrorCode(RunNotFoundError.code, NotFoundError.code);

/** No active hook has this token. */
export class HookNotFoundError extends NotFoundError {
  static override readonly code: string = "HOOK_NOT_FOUND";
  readonly token: string;
  constructor(token: string) {
    super(
      `No active hook has the token "${token}". The run that created it may have ended or disposed it, or it has not been created yet; check the token, or list hooks with \`npx stepwise inspect hooks\`.`,
    );
    this.token = token;
  }
}
registerErrorCode(HookNotFoundError.code, NotFoundError.code);

/** A write lost a race: the state it was based on has changed. */
export class ConflictError extends StepwiseError {
  static override readonly code: string = "CONFLICT";
}
registerErrorCode(ConflictError.code, StepwiseError.code);

/** An append expected the run's log to end at one sequence number, and it ends at another. */
export class SequenceConflictError extends ConflictError {
  static override readonly code: string = "SEQUENCE_CONFLICT";
  readonly runId: string;
  readonly expectedSeq: number;
  readonly actualSeq: number;
  constructor(runId: string, expectedSeq: number, actualSeq: number) {
    super(
      `Run ${runId} has moved on: the append expected its log to end at event ${expectedSeq}, but it ends at ${actualSeq}. Another worker extended the run; reload it before writing.`,
    );
    this.runId = runId;
    this.expectedSeq = expectedSeq;
    this.actualSeq = actualSeq;
  }
}
registerErrorCode(SequenceConflictError.code, ConflictError.code);

/** A hook token is already held by an active hook of a run that has not ended. */
export class HookTokenConflictError extends ConflictError {
  static override readonly code: string = "HOOK_TOKEN_CONFLICT";
  readonly token: string;
  readonly heldByRunId: string | undefined;
  constructor(token: string, heldByRunId?: string) {
    super(
      `The hook token "${token}" is already in use${heldByRunId ? ` by run ${heldByRunId}` : ""}. A token can be reused only after that run ends or disposes the hook; choose a different token or dispose the other hook first.`,
    );
    this.token = token;
    this.heldByRunId = heldByRunId;
  }
}
registerErrorCode(HookTokenConflictError.code, ConflictError.code);

/**
 * A run id chosen by the caller (`start(workflow, args, { id })`) is already taken by a run of
 * another workflow. Starting again with the same id and the same workflow is not an error (it
 * returns the existing run); with another workflow it is, and nothing is written.
 */
export class RunIdConflictError extends ConflictError {
  static override readonly code: string = "RUN_ID_CONFLICT";
  readonly runId: string;
  /** The workflow of the run that holds the id. */
  readonly workflowName: string;
  /** The workflow the caller asked to start under that id. */
  readonly requestedWorkflowName: string;
  constructor(runId: string, workflowName: string, requestedWorkflowName: string) {
    super(
      `The run id "${runId}" is already taken by a run of workflow ${workflowName}, so no run of ${requestedWorkflowName} can be started under it. Starting again with the same id returns the existing run only for the same workflow: choose another id (one per workflow, e.g. prefixed with the workflow's name), or look at the existing run with getRun("${runId}").`,
    );
    this.runId = runId;
    this.workflowName = workflowName;
    this.requestedWorkflowName = requestedWorkflowName;
  }
}
registerErrorCode(RunIdConflictError.code, ConflictError.code);

/**
 * A run being imported from another World (`runs.import`, `npx stepwise import`) has the id of a
 * run here that is not the same run: another workflow, or another seed (a run started here under
 * the same id). Nothing is written.
 */
export class ImportConflictError extends ConflictError {
  static override readonly code: string = "IMPORT_CONFLICT";
  readonly runId: string;
  constructor(runId: string, detail: string) {
    super(
      `Run ${runId} cannot be imported: this World has a different run under that id (${detail}). Nothing of it was written. Remove or rename one of them (export without it: list the other run ids), or import into another World.`,
    );
    this.runId = runId;
  }
}
registerErrorCode(ImportConflictError.code, ConflictError.code);

/** The run has already completed, failed or been cancelled; its log takes no more events. */
export class RunFinishedError extends ConflictError {
  static override readonly code: string = "RUN_FINISHED";
  readonly runId: string;
  readonly status: string;
  /** `refused` says what cannot be done to it (e.g. "paused"), for a control's message. */
  constructor(runId: string, status: string, refused?: string) {
    super(
      `Run ${runId} has already ended (status: ${status}); ${refused === undefined ? "nothing more can be written to it" : `a run that has ended cannot be ${refused}`}.`,
    );
    this.runId = runId;
    this.status = status;
  }
}
registerErrorCode(RunFinishedError.code, ConflictError.code);

/** The caller no longer holds the lease it wrote or acknowledged under: another worker took over. */
export class LeaseLostError extends StepwiseError {
  static override readonly code: string = "LEASE_LOST";
  constructor(what: string, owner: string, heldBy?: string) {
    super(
      `${what} is no longer leased to ${owner}${heldBy ? ` (now held by ${heldBy})` : ""}. Its lease expired and another worker took over; the work will continue there.`,
    );
  }
}
registerErrorCode(LeaseLostError.code, StepwiseError.code);

/**
 * The World cannot be reached or used right now (refused or dropped connection, a server
 * restarting, a database locked for too long, a full disk). The call that hit it failed; a later
 * call can succeed once the cause is gone, and workers back off and retry. A write whose connection
 * dropped while it was committing may have committed: re-read before writing again.
 */
export class WorldUnavailableError extends StepwiseError {
  static override readonly code: string = "WORLD_UNAVAILABLE";
}
registerErrorCode(WorldUnavailableError.code, StepwiseError.code);

/**
 * Another connection held the World's write lock for longer than the busy timeout (SQLite's
 * `database is locked`). Nothing of the call was written; wait and try again, or find the process
 * holding the lock.
 */
export class WorldBusyError extends WorldUnavailableError {
  static override readonly code: string = "WORLD_BUSY";
}
registerErrorCode(WorldBusyError.code, WorldUnavailableError.code);

/** Why the World's storage refused a call (see `WorldStorageError`). */
export type WorldStorageReason = "full" | "io" | "read-only" | "cannot-open";

/**
 * The World's storage refused the call: the disk is full (`full`), reading or writing failed
 * (`io`), the database cannot be written (`read-only`) or cannot be opened (`cannot-open`). Nothing
 * of the call was written; once the cause is fixed (free space, permissions, the disk), later calls
 * succeed.
 */
export class WorldStorageError extends WorldUnavailableError {
  static override readonly code: string = "WORLD_STORAGE";
  readonly reason: WorldStorageReason;
  constructor(reason: WorldStorageReason, message: string, options?: StepwiseErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}
registerErrorCode(WorldStorageError.code, WorldUnavailableError.code);

/**
 * The World's database is damaged (or is not a database at all). The World refuses to open it, or
 * stops using it as soon as it meets the damage, so that nothing more is written to it; waiting does
 * not help. Restore it from a backup; `npx stepwise doctor` says what is wrong.
 */
export class WorldCorruptError extends StepwiseError {
  static override readonly code: string = "WORLD_CORRUPT";
}
registerErrorCode(WorldCorruptError.code, StepwiseError.code);
