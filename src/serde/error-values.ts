/**
 * Errors in payloads: what survives (name, message, stack, cause chain, `code`, `retryAfter`,
 * `AggregateError#errors`, and other own enumerable properties that are data) and how an error is
 * rebuilt with the current realm's constructors, so `instanceof Error` (or `TypeError`, ...) holds on
 * either side of the sandbox boundary. `FatalError` and `RetryableError` come back as themselves.
 *
 * Runs in both realms: no Node imports; constructors are found on `globalThis` when revived.
 */
import { FatalError, RetryableError } from "../errors/user.ts";

/** A serialized Error: enough to rebuild it with the same name, message, stack and cause. */
export interface ErrorShape {
  name: string;
  message: string;
  stack?: string;
  cause?: unknown;
  code?: string;
  retryAfter?: unknown;
  /** `AggregateError#errors`. */
  errors?: unknown[];
  props?: Record<string, unknown>;
}

const BUILTIN_ERRORS = new Set([
  "Error",
  "TypeError",
  "RangeError",
  "SyntaxError",
  "ReferenceError",
  "EvalError",
  "URIError",
  "AggregateError",
]);

/**
 * Keys carried in the shape itself, never among `props`. (An own enumerable `name`, as class fields
 * and `this.name = ...` make, goes into `props` too, so it comes back enumerable.)
 */
const OWN_FIELDS = new Set(["message", "stack", "cause", "code", "retryAfter", "errors"]);

function isError(value: unknown): value is Error {
  return Object.prototype.toString.call(value) === "[object Error]" || value instanceof Error;
}

/** devalue reducer: the shape of an Error (of any realm), or false for anything else. */
export function reduceError(value: unknown): ErrorShape | false {
  if (!isError(value)) return false;
  const error = value as Error & { code?: unknown; retryAfter?: unknown; cause?: unknown; errors?: unknown };
  const shape: ErrorShape = { name: String(error.name), message: String(error.message) };
  if (typeof error.stack === "string") shape.stack = error.stack;
  if ("cause" in error && error.cause !== undefined) shape.cause = error.cause;
  if (typeof error.code === "string") shape.code = error.code;
  if (error.retryAfter !== undefined) shape.retryAfter = error.retryAfter;
  if (Array.isArray(error.errors)) shape.errors = error.errors;
  const props: Record<string, unknown> = {};
  let hasProps = false;
  for (const key of Object.keys(error)) {
    if (OWN_FIELDS.has(key)) continue;
    const prop = (error as unknown as Record<string, unknown>)[key];
    if (typeof prop === "function" || typeof prop === "symbol") continue;
    props[key] = prop;
    hasProps = true;
  }
  if (hasProps) shape.props = props;
  return shape;
}

function define(error: Error, key: string, value: unknown, enumerable = false): void {
  Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable });
}

type ErrorCtor = new (message?: string) => Error;
type AggregateCtor = new (errors: unknown[], message?: string) => Error;

function construct(shape: ErrorShape): Error {
  if (shape.code === FatalError.code) return new FatalError(shape.message);
  if (shape.code === RetryableError.code) {
    return new RetryableError(shape.message, { retryAfter: shape.retryAfter as number | string | Date });
  }
  const realm = globalThis as unknown as Record<string, unknown>;
  if (shape.name === "AggregateError" || shape.errors !== undefined) {
    const Aggregate = realm.AggregateError as AggregateCtor | undefined;
    if (Aggregate !== undefined) return new Aggregate(shape.errors ?? [], shape.message);
  }
  const name = BUILTIN_ERRORS.has(shape.name) && shape.name !== "AggregateError" ? shape.name : "Error";
  const Ctor = (realm[name] as ErrorCtor | undefined) ?? Error;
  return new Ctor(shape.message);
}

/** devalue reviver: an Error of this realm from its shape. */
export function reviveError(shape: ErrorShape): Error {
  const error = construct(shape);
  define(error, "name", shape.name);
  if (shape.stack !== undefined) define(error, "stack", shape.stack);
  if (shape.cause !== undefined) define(error, "cause", shape.cause);
  if (shape.code !== undefined) define(error, "code", shape.code, true);
  if (shape.errors !== undefined) define(error, "errors", shape.errors);
  for (const [key, value] of Object.entries(shape.props ?? {})) define(error, key, value, true);
  return error;
}
