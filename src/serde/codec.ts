/**
 * The value codec: turns workflow and step values into text and back with devalue-level fidelity
 * (undefined, BigInt, NaN, -0, Date, RegExp, Map, Set, typed arrays, ArrayBuffer, URL,
 * URLSearchParams, cyclic references) plus Errors (name, message, stack, cause, code) and Headers.
 *
 * This file runs in two realms: in the host, and bundled into the workflow sandbox, where it must
 * build values from the sandbox's own intrinsics so `instanceof Date` holds in workflow code. It
 * therefore imports nothing from Node and finds constructors on `globalThis` when it runs.
 */
import { parse, stringify } from "devalue";
import { FatalError, RetryableError } from "../errors/user.ts";

/** A serialized Error: enough to rebuild it with the same name, message, stack and cause. */
interface ErrorShape {
  name: string;
  message: string;
  stack?: string;
  cause?: unknown;
  code?: string;
  retryAfter?: unknown;
  props?: Record<string, unknown>;
}

const BUILTIN_ERRORS = [
  "Error",
  "TypeError",
  "RangeError",
  "SyntaxError",
  "ReferenceError",
  "EvalError",
  "URIError",
];

function isError(value: unknown): value is Error {
  return Object.prototype.toString.call(value) === "[object Error]" || value instanceof Error;
}

function reduceError(value: unknown): ErrorShape | false {
  if (!isError(value)) return false;
  const error = value as Error & { code?: unknown; retryAfter?: unknown; cause?: unknown };
  const shape: ErrorShape = { name: String(error.name), message: String(error.message) };
  if (typeof error.stack === "string") shape.stack = error.stack;
  if ("cause" in error && error.cause !== undefined) shape.cause = error.cause;
  if (typeof error.code === "string") shape.code = error.code;
  if (error.retryAfter !== undefined) shape.retryAfter = error.retryAfter;
  const props: Record<string, unknown> = {};
  let any = false;
  for (const key of Object.keys(error)) {
    if (key === "name" || key === "message" || key === "stack" || key === "cause" || key === "code") continue;
    if (key === "retryAfter") continue;
    const prop = (error as unknown as Record<string, unknown>)[key];
    if (typeof prop === "function" || typeof prop === "symbol") continue;
    props[key] = prop;
    any = true;
  }
  if (any) shape.props = props;
  return shape;
}

function reviveError(shape: ErrorShape): Error {
  let error: Error;
  if (shape.code === FatalError.code) error = new FatalError(shape.message);
  else if (shape.code === RetryableError.code) {
    error = new RetryableError(shape.message, { retryAfter: shape.retryAfter as number | string | Date });
  } else {
    const name = BUILTIN_ERRORS.includes(shape.name) ? shape.name : "Error";
    const ctor = (globalThis as unknown as Record<string, ErrorConstructor>)[name] ?? Error;
    error = new ctor(shape.message);
  }
  Object.defineProperty(error, "name", {
    value: shape.name,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  if (shape.stack !== undefined) {
    Object.defineProperty(error, "stack", {
      value: shape.stack,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  if (shape.cause !== undefined) {
    Object.defineProperty(error, "cause", {
      value: shape.cause,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  if (shape.code !== undefined) {
    Object.defineProperty(error, "code", {
      value: shape.code,
      writable: true,
      configurable: true,
      enumerable: true,
    });
  }
  if (shape.props) Object.assign(error, shape.props);
  return error;
}

type HeadersLike = { forEach(callback: (value: string, key: string) => void): void };

function reduceHeaders(value: unknown): [string, string][] | false {
  const ctor = (globalThis as { Headers?: new (init?: [string, string][]) => HeadersLike }).Headers;
  if (ctor === undefined || !(value instanceof ctor)) return false;
  const entries: [string, string][] = [];
  (value as HeadersLike).forEach((v, k) => {
    entries.push([k, v]);
  });
  return entries;
}

function reviveHeaders(entries: [string, string][]): unknown {
  const ctor = (globalThis as { Headers?: new (init?: [string, string][]) => HeadersLike }).Headers;
  if (ctor === undefined) throw new Error("Headers are not available in this environment.");
  return new ctor(entries);
}

const reducers = { Error: reduceError, Headers: reduceHeaders };
const revivers = {
  Error: (shape: ErrorShape) => reviveError(shape),
  Headers: (entries: [string, string][]) => reviveHeaders(entries),
};

/** Why a value cannot be serialized, with the path to the offending part. */
export class EncodeError extends Error {
  readonly path: string;
  constructor(message: string, path: string) {
    super(message);
    this.name = "EncodeError";
    this.path = path;
  }
}

/** Serializes a value to text. Throws `EncodeError` naming what and where for unsupported values. */
export function encodeValue(value: unknown): string {
  try {
    return stringify(value, reducers);
  } catch (error) {
    const path = (error as { path?: string }).path ?? "";
    const reason = error instanceof Error ? error.message : String(error);
    const where = path === "" ? "the value" : `the value at ${path}`;
    throw new EncodeError(
      `${where} cannot be serialized (${reason}). Pass plain data: objects, arrays, strings, numbers, Dates, Maps, Sets, typed arrays, URLs, Errors; functions, symbols and class instances without a serializer cannot cross a step or workflow boundary.`,
      path,
    );
  }
}

/** Reads text written by `encodeValue`, building values in the current realm. */
export function decodeValue(text: string): unknown {
  return parse(text, revivers);
}
