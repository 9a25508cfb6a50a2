/**
 * Errors raised by the runtime and the client API: misuse of the programming model, runs that fail
 * or are cancelled, and input that cannot be accepted. Each message says what to do about it.
 */
import { registerErrorCode, StepwiseError, type StepwiseErrorOptions } from "./base.ts";

function define(code: string, parent: string = StepwiseError.code): string {
  registerErrorCode(code, parent);
  return code;
}

/** `start()` was given something that is not a registered workflow, or a name nobody registered. */
export class WorkflowNotRegisteredError extends StepwiseError {
  static override readonly code: string = define("WORKFLOW_NOT_REGISTERED");
}

/**
 * `start("name", …)` named a workflow nobody knows: not registered in this process, not registered
 * by a live worker with the server, and with no stored runs. `known` lists the full ids that are.
 */
export class WorkflowNotFoundError extends WorkflowNotRegisteredError {
  static override readonly code: string = define("WORKFLOW_NOT_FOUND", WorkflowNotRegisteredError.code);
  /** The workflow ids the deployment knows, sorted. */
  readonly known: readonly string[];
  constructor(message: string, known: readonly string[] = [], options?: StepwiseErrorOptions) {
    super(message, options);
    this.known = known;
  }
}

/** `start("name", …)` named more than one known workflow; `matches` are their full ids. */
export class AmbiguousWorkflowNameError extends WorkflowNotRegisteredError {
  static override readonly code: string = define("WORKFLOW_NAME_AMBIGUOUS", WorkflowNotRegisteredError.code);
  /** The full ids the name matches, sorted. */
  readonly matches: readonly string[];
  constructor(message: string, matches: readonly string[] = [], options?: StepwiseErrorOptions) {
    super(message, options);
    this.matches = matches;
  }
}

/** A workflow called a step whose body is not registered in this process. */
export class StepNotRegisteredError extends StepwiseError {
  static override readonly code: string = define("STEP_NOT_REGISTERED");
}

/** A replay asked for something other than what the event log recorded at the same position. */
export class NonDeterminismError extends StepwiseError {
  static override readonly code: string = define("NON_DETERMINISM");
}

/** Workflow code used something the deterministic sandbox forbids (timers, global fetch, ...). */
export class SandboxViolationError extends StepwiseError {
  static override readonly code: string = define("SANDBOX_VIOLATION");
}

/** A duration could not be understood. */
export class InvalidDurationError extends StepwiseError {
  static override readonly code: string = define("INVALID_DURATION");
  readonly value: unknown;
  /** `accepted` says what is accepted where this duration was given (default: any duration). */
  constructor(
    value: unknown,
    context?: string,
    accepted = "Use milliseconds (5000), a duration string ('10s', '5m', '2h', '7 days') or a Date.",
  ) {
    super(`${context ? `${context}: ` : ""}${describe(value)} is not a valid duration. ${accepted}`);
    this.value = value;
  }
}

/** A value could not be serialized into, or read back from, the event log. */
export class SerializationError extends StepwiseError {
  static override readonly code: string = define("SERIALIZATION");
}

/** A payload or a run grew past a configured size limit. */
export class PayloadTooLargeError extends StepwiseError {
  static override readonly code: string = define("PAYLOAD_TOO_LARGE");
}

/** A stream name that is empty, too long, or tries to escape (`../`, slashes, control characters). */
export class InvalidStreamNameError extends StepwiseError {
  static override readonly code: string = define("INVALID_STREAM_NAME");
}

/** A reader asked for a stream position past its end. */
export class StreamRangeError extends StepwiseError {
  static override readonly code: string = define("STREAM_RANGE");
}

/** A hook payload failed the hook's schema. */
export class HookPayloadValidationError extends StepwiseError {
  static override readonly code: string = define("HOOK_PAYLOAD_INVALID");
  readonly issues: readonly { message: string; path?: readonly unknown[] }[];
  constructor(message: string, issues: readonly { message: string; path?: readonly unknown[] }[]) {
    super(message);
    this.issues = issues;
  }
}

/** Configuration from the environment (STEPWISE_*) is missing or wrong. */
export class ConfigError extends StepwiseError {
  static override readonly code: string = define("CONFIG");
}

/**
 * A run id given to `start(workflow, args, { id })` (or `startMany`, `POST /runs`, `start --id`)
 * that Stepwise cannot take: empty, longer than 100 characters, with a character outside
 * letters, digits, `_`, `.`, `:` and `-`, or `.` / `..` (which cannot name a run in a URL).
 */
export class InvalidRunIdError extends StepwiseError {
  static override readonly code: string = define("INVALID_RUN_ID");
  /** The id that was refused. */
  readonly runId: unknown;
  constructor(runId: unknown, message: string) {
    super(message);
    this.runId = runId;
  }
}

/** `startMany()` was given more runs than one batch (one transaction) may hold. */
export class BatchTooLargeError extends StepwiseError {
  static override readonly code: string = define("BATCH_TOO_LARGE");
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number) {
    super(
      `startMany() was given ${size} runs; one batch starts at most ${limit}, in one transaction. Split the list and call startMany() once per slice of ${limit} (each slice is then all or nothing on its own).`,
    );
    this.size = size;
    this.limit = limit;
  }
}

/** A workflow run ended in failure; `cause` holds the error the workflow threw. */
export class WorkflowRunFailedError extends StepwiseError {
  static override readonly code: string = define("RUN_FAILED");
  readonly runId: string;
  constructor(runId: string, cause: unknown) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`Workflow run ${runId} failed: ${reason}`, { cause });
    this.runId = runId;
  }
}

/** A workflow run was cancelled before it finished. */
export class WorkflowRunCancelledError extends StepwiseError {
  static override readonly code: string = define("RUN_CANCELLED");
  readonly runId: string;
  constructor(runId: string, options?: StepwiseErrorOptions) {
    super(`Workflow run ${runId} was cancelled.`, options);
    this.runId = runId;
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Date) return `Date(${String(value.getTime())})`;
  return String(value);
}
