/**
 * A tiny schema library for the HTTP request bodies: strings, arrays, any JSON value, and strict
 * objects (unknown fields are refused). Each schema is a Standard Schema (`~standard`), so the type
 * of a body is inferred from the one schema that checks it (STYLE 8), and any Standard Schema tool
 * can use them. It exists because the bodies are small and a schema dependency would be heavier
 * than the whole handler.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";

/** One reason a value does not match, and where in the value. */
export interface SchemaIssue {
  path: (string | number)[];
  message: string;
}

/** A schema: a Standard Schema with a synchronous check that collects issues. */
export interface Schema<T> extends StandardSchemaV1<unknown, T> {
  /** Returns the value when it matches; otherwise pushes issues (what it returns then is unused). */
  readonly check: (value: unknown, path: (string | number)[], issues: SchemaIssue[]) => T;
  /** True for fields an object may leave out. */
  readonly optional: boolean;
}

/** The type a schema accepts. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

function schema<T>(
  check: (value: unknown, path: (string | number)[], issues: SchemaIssue[]) => T,
  optional = false,
): Schema<T> {
  return {
    check,
    optional,
    "~standard": {
      version: 1,
      vendor: "stepwise-http",
      validate(value) {
        const issues: SchemaIssue[] = [];
        const out = check(value, [], issues);
        return issues.length === 0 ? { value: out } : { issues };
      },
    },
  };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** A string of `min`..`max` characters. */
export function string(options: { min?: number; max: number }): Schema<string> {
  const min = options.min ?? 0;
  return schema((value, path, issues) => {
    if (typeof value !== "string") {
      issues.push({ path, message: `expected a string, got ${describe(value)}` });
      return "";
    }
    if (value.length < min || value.length > options.max) {
      issues.push({ path, message: `expected ${min} to ${options.max} characters, got ${value.length}` });
    }
    return value;
  });
}

/** `true` or `false`. */
export function boolean(): Schema<boolean> {
  return schema((value, path, issues) => {
    if (typeof value !== "boolean") {
      issues.push({ path, message: `expected true or false, got ${describe(value)}` });
      return false;
    }
    return value;
  });
}

/** Any JSON value (the field must still be present unless wrapped in `optional`). */
export function json(): Schema<unknown> {
  return schema((value) => value);
}

/** An array of at most `max` items, each checked by `item`. */
export function array<T>(item: Schema<T>, options: { max: number }): Schema<T[]> {
  return schema((value, path, issues) => {
    if (!Array.isArray(value)) {
      issues.push({ path, message: `expected an array, got ${describe(value)}` });
      return [];
    }
    if (value.length > options.max) {
      issues.push({ path, message: `expected at most ${options.max} items, got ${value.length}` });
      return [];
    }
    return value.map((entry, index) => item.check(entry, [...path, index], issues));
  });
}

/** Marks a field an object may leave out. */
export function optional<T>(inner: Schema<T>): Schema<T | undefined> & { readonly optional: true } {
  return schema<T | undefined>(
    (value, path, issues) => (value === undefined ? undefined : inner.check(value, path, issues)),
    true,
  ) as Schema<T | undefined> & { readonly optional: true };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends { readonly optional: true } ? K : never;
}[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] };

/** The object type a shape describes: optional fields may be absent. */
export type ObjectOf<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

/** A plain object with exactly the fields of `shape`: a missing required field or an unknown one is an issue. */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  const known = Object.keys(shape);
  return schema((value, path, issues) => {
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
      const field = shape[key] as Schema<unknown>;
      if (!Object.hasOwn(record, key)) {
        if (!field.optional) issues.push({ path: [...path, key], message: "required field is missing" });
        continue;
      }
      out[key] = field.check(record[key], [...path, key], issues);
    }
    return out as ObjectOf<S>;
  });
}
