/**
 * Turns whatever a route throws into an HTTP problem: `HttpProblem`s as they are, Stepwise errors
 * by their stable code (not found → 404, finished run, run not paused or run id held by another
 * workflow → 409, bad payload, stream name, run id, event type or event payload, restart point → 400,
 * a restart that lost to another → 409, too large → 413, index
 * past a stream's end → 416,
 * configuration → 503), and anything else into a 500 that names an error id and reveals nothing
 * about the failure (the details go to `onError`, the server's log).
 */
import { randomUUID } from "node:crypto";
import { RunNotPausedError } from "../errors/control.ts";
import { EventPayloadValidationError, InvalidEventTypeError } from "../errors/events.ts";
import {
  InvalidRestartPointError,
  RestartConflictError,
  RestartStepNotFoundError,
} from "../errors/restart.ts";
import {
  AmbiguousWorkflowNameError,
  ConfigError,
  InvalidRunIdError,
  InvalidStreamNameError,
  PayloadTooLargeError,
  SerializationError,
  StreamRangeError,
  WorkflowNotRegisteredError,
} from "../errors/runtime.ts";
import {
  HookNotFoundError,
  NotFoundError,
  RunFinishedError,
  RunIdConflictError,
  RunNotFoundError,
} from "../errors/world.ts";
import { PayloadDecryptionError } from "../serde/errors.ts";
import { HttpProblem } from "./problem.ts";

/** Maps known Stepwise errors to problems; undefined for anything else. */
function knownProblem(error: unknown): HttpProblem | undefined {
  if (error instanceof HttpProblem) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (RunNotFoundError.is(error)) return new HttpProblem(404, RunNotFoundError.code, message);
  if (HookNotFoundError.is(error)) return new HttpProblem(404, HookNotFoundError.code, message);
  if (NotFoundError.is(error)) return new HttpProblem(404, NotFoundError.code, message);
  if (AmbiguousWorkflowNameError.is(error))
    return new HttpProblem(409, AmbiguousWorkflowNameError.code, message);
  if (WorkflowNotRegisteredError.is(error))
    return new HttpProblem(404, WorkflowNotRegisteredError.code, message);
  if (RunFinishedError.is(error)) return new HttpProblem(409, RunFinishedError.code, message);
  if (RunIdConflictError.is(error)) return new HttpProblem(409, RunIdConflictError.code, message);
  if (RunNotPausedError.is(error)) return new HttpProblem(409, RunNotPausedError.code, message);
  if (InvalidRunIdError.is(error)) return new HttpProblem(400, InvalidRunIdError.code, message);
  if (PayloadTooLargeError.is(error)) return new HttpProblem(413, PayloadTooLargeError.code, message);
  // Before SerializationError, which it extends: a key problem, not a bad request.
  if (PayloadDecryptionError.is(error)) return new HttpProblem(422, PayloadDecryptionError.code, message);
  if (SerializationError.is(error)) return new HttpProblem(400, SerializationError.code, message);
  if (InvalidStreamNameError.is(error)) return new HttpProblem(400, InvalidStreamNameError.code, message);
  if (InvalidEventTypeError.is(error)) return new HttpProblem(400, InvalidEventTypeError.code, message);
  if (EventPayloadValidationError.is(error)) {
    const issues = (error as EventPayloadValidationError).issues.map((issue) => ({
      path: (issue.path ?? []).map((part) => (typeof part === "number" ? part : String(part))),
      message: issue.message,
    }));
    return new HttpProblem(400, EventPayloadValidationError.code, message, { issues });
  }
  if (InvalidRestartPointError.is(error)) return new HttpProblem(400, InvalidRestartPointError.code, message);
  // The message lists the steps the run called.
  if (RestartStepNotFoundError.is(error)) return new HttpProblem(400, RestartStepNotFoundError.code, message);
  if (RestartConflictError.is(error)) return new HttpProblem(409, RestartConflictError.code, message);
  if (StreamRangeError.is(error)) return new HttpProblem(416, StreamRangeError.code, message);
  if (ConfigError.is(error)) return new HttpProblem(503, ConfigError.code, message);
  return undefined;
}

/**
 * The problem to answer `error` with. Unknown errors are reported to `onError` with a fresh id and
 * answered with a 500 that carries only that id.
 */
export function toProblem(error: unknown, onError: (error: unknown, errorId: string) => void): HttpProblem {
  const known = knownProblem(error);
  if (known !== undefined) return known;
  const errorId = randomUUID();
  onError(error, errorId);
  return new HttpProblem(
    500,
    "INTERNAL",
    `The server failed to handle this request (error id ${errorId}). The server's log has the details under that id; retry later or report it with the id.`,
  );
}
