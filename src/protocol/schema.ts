/**
 * The schemas of the worker protocol's bodies, each doing three jobs from one definition: checking
 * a JSON value (unknown fields, wrong types and missing fields become issues with their path),
 * decoding it (base64 strings become bytes), and describing itself as JSON Schema 2020-12 for the
 * protocol's OpenAPI file (`docs/protocol.openapi.json`, generated from these). Bytes travel as
 * standard base64 strings; everything else is plain JSON.
 */

/** One reason a value does not match, and where in the value. */
export interface WireIssue {
  path: (string | number)[];
  message: string;
}

/** A JSON Schema object (the subset the protocol uses). */
export type JsonSchema = Record<string, unknown>;

/** A schema: checks and decodes a JSON value into `T`, and describes itself. */
export interface WireSchema<T> {
  /** Returns the decoded value when it matches; otherwise pushes issues (what it returns then is unused). */
  readonly check: (value: unknown, path: (string | number)[], issues: WireIssue[]) => T;
  /** JSON Schema for the OpenAPI file. */
  readonly json: () => JsonSchema;
  /** True for fields an object may leave out. */
  readonly optional: boolean;
}

/** The type a schema decodes to. */
export type WireType<S> = S extends WireSchema<infer T> ? T : never;

function make<T>(check: WireSchema<T>["check"], json: () => JsonSchema, optional = false): WireSchema<T> {
  return { check, json, optional };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** A string of at most `max` characters (and at least `min`, default 0). */
export function str(options: { max: number; min?: number } = { max: 4096 }): WireSchema<string> {
  const min = options.min ?? 0;
  return make(
    (value, path, issues) => {
      if (typeof value !== "string") {
        issues.push({ path, message: `expected a string, got ${describe(value)}` });
        return "";
      }
      if (value.length < min || value.length > options.max) {
        issues.push({ path, message: `expected ${min} to ${options.max} characters, got ${value.length}` });
      }
      return value;
    },
    () => ({ type: "string", ...(min > 0 ? { minLength: min } : {}), maxLength: options.max }),
  );
}

/** One of the given strings. */
export function oneOf<const T extends string>(values: readonly T[]): WireSchema<T> {
  return make(
    (value, path, issues) => {
      if (typeof value !== "string" || !(values as readonly string[]).includes(value)) {
        issues.push({ path, message: `expected one of ${values.map((v) => JSON.stringify(v)).join(", ")}` });
      }
      return value as T;
    },
    () => ({ type: "string", enum: [...values] }),
  );
}

/** A whole number between `min` (default 0) and the largest safe integer. */
export function int(options: { min?: number } = {}): WireSchema<number> {
  const min = options.min ?? 0;
  return make(
    (value, path, issues) => {
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
        issues.push({ path, message: `expected a whole number >= ${min}, got ${JSON.stringify(value)}` });
        return 0;
      }
      return value;
    },
    () => ({ type: "integer", minimum: min, maximum: Number.MAX_SAFE_INTEGER }),
  );
}

/** `true` or `false`. */
export function bool(): WireSchema<boolean> {
  return make(
    (value, path, issues) => {
      if (typeof value !== "boolean") {
        issues.push({ path, message: `expected true or false, got ${describe(value)}` });
        return false;
      }
      return value;
    },
    () => ({ type: "boolean" }),
  );
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Bytes, sent as a standard base64 string (padding included). */
export function bytes(): WireSchema<Uint8Array> {
  return make(
    (value, path, issues) => {
      if (typeof value !== "string" || value.length % 4 !== 0 || !BASE64.test(value)) {
        issues.push({ path, message: `expected bytes as a padded base64 string, got ${describe(value)}` });
        return new Uint8Array(0);
      }
      const buffer = Buffer.from(value, "base64");
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    },
    () => ({ type: "string", contentEncoding: "base64" }),
  );
}

/** Any JSON value, passed on as it is. */
export function anyJson(): WireSchema<unknown> {
  return make(
    (value) => value,
    () => ({}),
  );
}

/** A JSON object with any fields (metadata the World stores as it is). */
export function jsonObject(): WireSchema<Record<string, unknown>> {
  return make(
    (value, path, issues) => {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        issues.push({ path, message: `expected an object, got ${describe(value)}` });
        return {};
      }
      return value as Record<string, unknown>;
    },
    () => ({ type: "object" }),
  );
}

/** An array of at most `max` items, each checked by `item`. */
export function list<T>(item: WireSchema<T>, options: { max: number }): WireSchema<T[]> {
  return make(
    (value, path, issues) => {
      if (!Array.isArray(value)) {
        issues.push({ path, message: `expected an array, got ${describe(value)}` });
        return [];
      }
      if (value.length > options.max) {
        issues.push({ path, message: `expected at most ${options.max} items, got ${value.length}` });
        return [];
      }
      return value.map((entry, index) => item.check(entry, [...path, index], issues));
    },
    () => ({ type: "array", items: item.json(), maxItems: options.max }),
  );
}

/** Marks a field an object may leave out. */
export function opt<T>(inner: WireSchema<T>): WireSchema<T | undefined> & { readonly optional: true } {
  return make<T | undefined>(
    (value, path, issues) => (value === undefined ? undefined : inner.check(value, path, issues)),
    inner.json,
    true,
  ) as WireSchema<T | undefined> & { readonly optional: true };
}

type Shape = Record<string, WireSchema<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends { readonly optional: true } ? K : never;
}[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] };

/** The object type a shape describes: optional fields may be absent. */
export type ObjectOf<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: WireType<S[K]> } & { [K in OptionalKeys<S>]?: WireType<S[K]> }
>;

/**
 * A named object with exactly the fields of `shape` (a missing required field or an unknown one is
 * an issue). The name makes it a component of the OpenAPI file, referred to by `$ref`.
 */
export function obj<S extends Shape>(
  name: string | undefined,
  shape: S,
): WireSchema<ObjectOf<S>> & {
  readonly title: string | undefined;
  readonly shape: S;
} {
  const known = Object.keys(shape);
  const check: WireSchema<ObjectOf<S>>["check"] = (value, path, issues) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      issues.push({ path, message: `expected an object, got ${describe(value)}` });
      return {} as ObjectOf<S>;
    }
    const record = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(record)) {
      if (!Object.hasOwn(shape, key)) {
        issues.push({
          path: [...path, key],
          message: `unknown field; the fields are ${known.map((k) => JSON.stringify(k)).join(", ")}`,
        });
      }
    }
    for (const key of known) {
      const field = shape[key] as WireSchema<unknown>;
      if (!Object.hasOwn(record, key) || record[key] === undefined) {
        if (!field.optional) issues.push({ path: [...path, key], message: "required field is missing" });
        continue;
      }
      out[key] = field.check(record[key], [...path, key], issues);
    }
    return out as ObjectOf<S>;
  };
  const inline = (): JsonSchema => ({
    type: "object",
    properties: Object.fromEntries(known.map((key) => [key, (shape[key] as WireSchema<unknown>).json()])),
    required: known.filter((key) => !(shape[key] as WireSchema<unknown>).optional),
    additionalProperties: false,
  });
  const json = name === undefined ? inline : () => ({ $ref: `#/components/schemas/${name}` });
  const schema = make(check, json);
  if (name !== undefined) components.set(name, inline);
  return Object.assign(schema, { title: name, shape });
}

/** Every named object schema, for the OpenAPI file's `components.schemas`. */
const components = new Map<string, () => JsonSchema>();

/** The JSON Schemas of every named object, by name, sorted. */
export function componentSchemas(): Record<string, JsonSchema> {
  return Object.fromEntries(
    [...components.keys()].sort().map((name) => [name, components.get(name)?.() ?? {}]),
  );
}

/** Checks and decodes `value`, returning the issues instead of throwing. */
export function decode<T>(schema: WireSchema<T>, value: unknown): { value: T } | { issues: WireIssue[] } {
  const issues: WireIssue[] = [];
  const out = schema.check(value, [], issues);
  return issues.length === 0 ? { value: out } : { issues };
}

/** JSON text for a value: bytes become base64 strings, `undefined` fields are left out. */
export function encodeJson(value: unknown): string {
  // The holder's own field, not the replacer's argument: a Buffer's toJSON has already run on that.
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, field: unknown) {
    const original = this[key];
    if (original instanceof Uint8Array) {
      return Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString("base64");
    }
    return field;
  });
}

/** Issues as one line each: `path: message`. */
export function formatIssues(issues: readonly WireIssue[], limit = 10): string {
  const shown = issues
    .slice(0, limit)
    .map((issue) => `${issue.path.length === 0 ? "(body)" : issue.path.join(".")}: ${issue.message}`);
  if (issues.length > limit) shown.push(`… and ${issues.length - limit} more`);
  return shown.join("; ");
}
