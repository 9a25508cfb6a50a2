/**
 * Turns a workflow value (which the codec keeps with devalue fidelity) into plain JSON for HTTP
 * responses. Lossy by nature, and documented in docs/http.md: `Date` → ISO string, `BigInt` →
 * decimal string, `Map` → object (or `[key, value]` pairs when a key is not a string), `Set` →
 * array, `Uint8Array` / `ArrayBuffer` → `{ "base64": ... }`, other typed arrays → number arrays,
 * `URL`, `URLSearchParams`, `RegExp` → strings, `Headers` → object, `Error` → `{ name, message,
 * code?, cause? }`, `undefined` / `NaN` / `±Infinity` → `null`, repeated references → "[Circular]"
 * when they form a cycle.
 */

/** A value JSON.stringify writes as it is. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const MAX_DEPTH = 200;

function errorToJson(error: Error, seen: Set<object>, depth: number): JsonValue {
  const out: { [key: string]: JsonValue } = { name: String(error.name), message: String(error.message) };
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") out.code = code;
  if (error.cause !== undefined) out.cause = convert(error.cause, seen, depth + 1);
  return out;
}

function mapToJson(map: Map<unknown, unknown>, seen: Set<object>, depth: number): JsonValue {
  const keys = [...map.keys()];
  if (keys.every((key) => typeof key === "string")) {
    const out: { [key: string]: JsonValue } = {};
    for (const [key, value] of map) out[key as string] = convert(value, seen, depth + 1);
    return out;
  }
  return [...map].map(([key, value]) => [convert(key, seen, depth + 1), convert(value, seen, depth + 1)]);
}

function objectToJson(value: object, seen: Set<object>, depth: number): JsonValue {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof RegExp) return String(value);
  if (value instanceof URL) return value.href;
  if (value instanceof URLSearchParams) return value.toString();
  if (value instanceof Headers) return Object.fromEntries(value.entries());
  if (value instanceof ArrayBuffer) return { base64: Buffer.from(value).toString("base64") };
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString("base64") };
  if (ArrayBuffer.isView(value)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, (n) => convert(n, seen, depth + 1));
  }
  if (value instanceof Error) return errorToJson(value, seen, depth);
  if (value instanceof Map) return mapToJson(value, seen, depth);
  if (value instanceof Set) return [...value].map((item) => convert(item, seen, depth + 1));
  if (Array.isArray(value)) return value.map((item) => convert(item, seen, depth + 1));
  const out: { [key: string]: JsonValue } = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
    out[key] = convert(item, seen, depth + 1);
  }
  return out;
}

function convert(value: unknown, seen: Set<object>, depth: number): JsonValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "boolean":
    case "string":
      return value;
    case "number":
      return Number.isFinite(value) ? (Object.is(value, -0) ? 0 : value) : null;
    case "bigint":
      return value.toString();
    case "object": {
      if (seen.has(value)) return "[Circular]";
      if (depth > MAX_DEPTH) return "[Too deep]";
      seen.add(value);
      try {
        return objectToJson(value, seen, depth);
      } finally {
        seen.delete(value);
      }
    }
    default:
      return null;
  }
}

/** The plain-JSON form of `value` (see the header for how each rich type is written). */
export function toJsonValue(value: unknown): JsonValue {
  return convert(value, new Set(), 0);
}
