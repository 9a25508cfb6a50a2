/**
 * The World's error contract on the wire. The server answers each World error with an HTTP status,
 * its stable code and the fields a caller may read (`details`); the remote World turns the answer
 * back into the same error class with the same fields, so code above a World never learns that the
 * World was remote. Errors of the protocol itself (a bad body, an unknown worker) have codes of
 * their own and become `ProtocolError`s.
 */
import { type StepwiseError, StepwiseError as StepwiseErrorClass } from "../errors/base.ts";
import { PayloadTooLargeError } from "../errors/runtime.ts";
import {
  ConflictError,
  HookNotFoundError,
  HookTokenConflictError,
  ImportConflictError,
  LeaseLostError,
  NotFoundError,
  RunFinishedError,
  RunIdConflictError,
  RunNotFoundError,
  SequenceConflictError,
  WorldBusyError,
  WorldCorruptError,
  WorldStorageError,
  WorldUnavailableError,
} from "../errors/world.ts";

type ErrorClass = (abstract new (...args: never[]) => StepwiseError) & { readonly code: string };

/** Each World error: its HTTP status and the fields that travel with it. Most specific first. */
const WORLD_ERRORS: readonly { type: ErrorClass; status: number; fields: readonly string[] }[] = [
  { type: RunNotFoundError, status: 404, fields: ["runId"] },
  { type: HookNotFoundError, status: 404, fields: ["token"] },
  { type: NotFoundError, status: 404, fields: [] },
  { type: SequenceConflictError, status: 409, fields: ["runId", "expectedSeq", "actualSeq"] },
  { type: HookTokenConflictError, status: 409, fields: ["token", "heldByRunId"] },
  { type: RunIdConflictError, status: 409, fields: ["runId", "workflowName", "requestedWorkflowName"] },
  { type: ImportConflictError, status: 409, fields: ["runId"] },
  { type: RunFinishedError, status: 409, fields: ["runId", "status"] },
  { type: ConflictError, status: 409, fields: [] },
  { type: LeaseLostError, status: 409, fields: [] },
  { type: PayloadTooLargeError, status: 413, fields: [] },
  { type: WorldBusyError, status: 503, fields: [] },
  { type: WorldStorageError, status: 503, fields: ["reason"] },
  { type: WorldUnavailableError, status: 503, fields: [] },
  { type: WorldCorruptError, status: 500, fields: [] },
];

/** A World error as the server answers it. */
export interface WireError {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** The answer for a World error, or undefined for anything else (a bug: a 500 with an error id). */
export function worldErrorToWire(error: unknown): WireError | undefined {
  for (const entry of WORLD_ERRORS) {
    if (!(error instanceof entry.type)) continue;
    const details: Record<string, unknown> = {};
    for (const field of entry.fields) {
      const value = (error as unknown as Record<string, unknown>)[field];
      if (value !== undefined) details[field] = value;
    }
    return {
      status: entry.status,
      code: (error as StepwiseError).code,
      message: (error as Error).message,
      ...(entry.fields.length > 0 ? { details } : {}),
    };
  }
  return undefined;
}

/**
 * A refusal of the protocol itself, not of the World: a malformed body, an unknown operation,
 * version or worker, a missing secret. `code` is stable; `status` the HTTP status it came with.
 */
export class ProtocolError extends StepwiseErrorClass {
  static override readonly code: string = "PROTOCOL_ERROR";
  readonly status: number;
  readonly protocolCode: string;
  constructor(status: number, protocolCode: string, message: string) {
    super(message);
    this.status = status;
    this.protocolCode = protocolCode;
  }
}

/** The error a remote World throws for an answer with `body.error`: the World's class, or a `ProtocolError`. */
export function wireToError(
  status: number,
  body: { code: string; message: string; details?: unknown },
): Error {
  const entry = WORLD_ERRORS.find((candidate) => candidate.type.code === body.code);
  if (entry === undefined) {
    if (status === 503) return new WorldUnavailableError(body.message);
    return new ProtocolError(status, body.code, body.message);
  }
  // The server's message and fields, on an instance of the same class (its constructor would
  // write a message of its own from arguments some classes do not keep).
  const error = Object.create(entry.type.prototype) as StepwiseError & Record<string, unknown>;
  Object.defineProperty(error, "message", { value: body.message, writable: true, configurable: true });
  Object.defineProperty(error, "code", {
    value: body.code,
    writable: true,
    configurable: true,
    enumerable: true,
  });
  Object.defineProperty(error, "name", {
    value: (entry.type as unknown as { name: string }).name,
    writable: true,
    configurable: true,
  });
  Error.captureStackTrace(error, wireToError);
  const details =
    typeof body.details === "object" && body.details !== null
      ? (body.details as Record<string, unknown>)
      : {};
  for (const field of entry.fields) if (details[field] !== undefined) error[field] = details[field];
  return error;
}
