/**
 * The value codec: turns workflow and step values into text and back with devalue-level fidelity
 * (undefined, BigInt, NaN, ±Infinity, -0, Date (invalid ones too), RegExp, Map, Set, typed arrays,
 * ArrayBuffer, DataView, URL, URLSearchParams, sparse arrays, null-prototype objects, repeated and
 * cyclic references), plus Errors (see `error-values.ts`), Headers, and user classes with a static
 * serialize / deserialize pair (see `classes.ts`).
 *
 * This file runs in two realms: in the host, and bundled into the workflow sandbox, where it must
 * build values from the sandbox's own intrinsics so `instanceof Date` holds in workflow code. It
 * therefore imports nothing from Node and finds constructors on `globalThis` when it runs.
 */
import { parse, stringify } from "devalue";
import {
  type ClassRegistry,
  explainClassInstance,
  reduceClassInstance,
  reviveClassInstance,
} from "./classes.ts";
import { type ErrorShape, reduceError, reviveError } from "./error-values.ts";

export {
  type ClassRegistry,
  createClassRegistry,
  deserialize,
  registerClass,
  type SerializableClass,
  serialize,
  UnregisteredInstance,
  withClassRegistry,
} from "./classes.ts";

type HeadersLike = { forEach(callback: (value: string, key: string) => void): void };
type HeadersCtor = new (init?: [string, string][]) => HeadersLike;

function reduceHeaders(value: unknown): [string, string][] | false {
  const ctor = (globalThis as { Headers?: HeadersCtor }).Headers;
  if (ctor === undefined || !(value instanceof ctor)) return false;
  const entries: [string, string][] = [];
  (value as HeadersLike).forEach((v, k) => {
    entries.push([k, v]);
  });
  return entries;
}

function reviveHeaders(entries: [string, string][]): unknown {
  const ctor = (globalThis as { Headers?: HeadersCtor }).Headers;
  if (ctor === undefined) throw new Error("Headers are not available in this environment.");
  return new ctor(entries);
}

// Order matters: a user class (even one extending Error) is written by its own serializer.
const reducers = { Class: reduceClassInstance, Error: reduceError, Headers: reduceHeaders };

function revivers(classes: ClassRegistry | undefined) {
  return {
    Class: (entry: [string, unknown]) => reviveClassInstance(entry, classes),
    Error: (shape: ErrorShape) => reviveError(shape),
    Headers: (entries: [string, string][]) => reviveHeaders(entries),
  };
}

const defaultRevivers = revivers(undefined);

/** Why a value cannot be serialized, with the path to the offending part. */
export class EncodeError extends Error {
  readonly path: string;
  constructor(message: string, path: string) {
    super(message);
    this.name = "EncodeError";
    this.path = path;
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * devalue leaves a lone surrogate (a string cut inside a surrogate pair) raw, and UTF-8 cannot
 * carry it: write it as a JSON escape, which reads back as the same string. Lone surrogates only
 * occur inside string literals of the output.
 */
function escapeLoneSurrogates(text: string): string {
  if ((text as { isWellFormed?: () => boolean }).isWellFormed?.() === true) return text;
  return text.replace(LONE_SURROGATE, (unit) => `\\u${unit.charCodeAt(0).toString(16)}`);
}

/**
 * Serializes a value to text. Throws `EncodeError` naming what and where for unsupported values
 * (for a class instance: the class, and how to make it serializable).
 */
export function encodeValue(value: unknown): string {
  try {
    return escapeLoneSurrogates(stringify(value, reducers));
  } catch (error) {
    const { path = "", value: offending } = error as { path?: string; value?: unknown };
    const reason =
      explainClassInstance(offending) ?? (error instanceof Error ? error.message : String(error));
    const where = path === "" ? "the value" : `the value at ${path}`;
    throw new EncodeError(
      `${where} cannot be serialized (${reason}). Pass plain data: objects, arrays, strings, numbers, Dates, Maps, Sets, typed arrays, URLs, Errors, and classes with a static [serialize]/[deserialize] pair; functions and symbols cannot cross a step or workflow boundary.`,
      path,
    );
  }
}

/**
 * Reads text written by `encodeValue`, building values in the current realm. User classes are
 * looked up in `classes` (a run's registry in the sandbox), else in the realm's registry.
 */
export function decodeValue(text: string, classes?: ClassRegistry): unknown {
  return parse(text, classes === undefined ? defaultRevivers : revivers(classes));
}
