/**
 * What the fidelity tests compare. `fingerprint(value)` writes a value as text that tells apart
 * everything a round trip must keep (types, -0 from 0, NaN, invalid Dates, RegExp flags, holes in
 * arrays, null prototypes, Error names / stacks / causes / extra properties, which references are
 * shared), without depending on the realm the value was built in. `realmReport(value)` lists the
 * global constructors of the realm it runs in that `value` is an instance of: run on each side of
 * the sandbox boundary, equal reports mean each side built the value with its own intrinsics.
 * `realmReport` is self-contained (no outer references): the tests put its source into sandbox code.
 */
import { unregisteredInstance } from "../../src/serde/classes.ts";

/**
 * For `value` and every object inside it (depth first, each once), the global constructors of the
 * current realm it is an instance of. Self-contained: its source also runs in the sandbox.
 */
export function realmReport(value: unknown): string {
  const names = [
    "Object",
    "Array",
    "Map",
    "Set",
    "Date",
    "RegExp",
    "Error",
    "TypeError",
    "RangeError",
    "AggregateError",
    "ArrayBuffer",
    "DataView",
    "Int8Array",
    "Uint8Array",
    "Uint8ClampedArray",
    "Int16Array",
    "Uint16Array",
    "Int32Array",
    "Uint32Array",
    "Float32Array",
    "Float64Array",
    "BigInt64Array",
    "BigUint64Array",
    "URL",
    "URLSearchParams",
    "Headers",
  ];
  const realm = globalThis as unknown as Record<string, unknown>;
  const seen = new Set<unknown>();
  const out: string[] = [];
  const visit = (v: unknown): void => {
    if (typeof v !== "object" || v === null) {
      out.push(typeof v);
      return;
    }
    if (seen.has(v)) return;
    seen.add(v);
    const hits = names.filter((name) => {
      const ctor = realm[name];
      return typeof ctor === "function" && v instanceof (ctor as new () => unknown);
    });
    out.push(hits.join("+") || "(no realm constructor)");
    const children: unknown[] = [];
    if (v instanceof (realm.Map as MapConstructor))
      for (const [k, x] of v as Map<unknown, unknown>) children.push(k, x);
    else if (v instanceof (realm.Set as SetConstructor)) children.push(...(v as Set<unknown>));
    else if (!ArrayBuffer.isView(v))
      for (const key of Object.keys(v)) children.push((v as Record<string, unknown>)[key]);
    if (v instanceof (realm.Error as ErrorConstructor)) children.push((v as { cause?: unknown }).cause);
    for (const child of children) visit(child);
  };
  visit(value);
  return out.join(" ");
}

function number(n: number): string {
  if (Object.is(n, -0)) return "-0";
  return String(n);
}

/** A realm-independent text of everything a round trip must preserve. */
export function fingerprint(value: unknown): string {
  const seen = new Map<object, number>();
  const walk = (v: unknown): string => {
    if (v === null) return "null";
    switch (typeof v) {
      case "undefined":
        return "undefined";
      case "number":
        return `number(${number(v)})`;
      case "bigint":
        return `${v}n`;
      case "string":
        return JSON.stringify(v);
      case "boolean":
        return String(v);
      case "symbol":
      case "function":
        return `<${typeof v}>`;
    }
    const object = v as object;
    const id = seen.get(object);
    if (id !== undefined) return `#${id}`;
    seen.set(object, seen.size);
    const tag = Object.prototype.toString.call(object).slice(8, -1);
    const here = `#${seen.size - 1}=`;
    const unregistered = unregisteredInstance(object);
    if (unregistered !== undefined)
      return `${here}Unregistered(${unregistered.classId}, ${walk(unregistered.data)})`;
    if (tag === "Date") return `${here}Date(${number((object as Date).getTime())})`;
    if (tag === "RegExp") {
      const re = object as RegExp;
      return `${here}RegExp(/${re.source}/${re.flags})`;
    }
    if (tag === "Map")
      return `${here}Map{${[...(object as Map<unknown, unknown>)].map(([k, x]) => `${walk(k)}=>${walk(x)}`).join(", ")}}`;
    if (tag === "Set") return `${here}Set{${[...(object as Set<unknown>)].map(walk).join(", ")}}`;
    if (tag === "ArrayBuffer")
      return `${here}ArrayBuffer(${Buffer.from(object as ArrayBuffer).toString("hex")})`;
    if (ArrayBuffer.isView(object)) {
      const view = object as ArrayBufferView;
      const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString("hex");
      return `${here}${tag}(offset ${view.byteOffset} of ${view.buffer.byteLength}: ${bytes})`;
    }
    if (tag === "URL" || tag === "URLSearchParams") return `${here}${tag}(${String(object)})`;
    if (tag === "Headers") return `${here}Headers(${JSON.stringify([...(object as Headers)])})`;
    if (tag === "Error") {
      const error = object as Error & { cause?: unknown; errors?: unknown };
      const extra = Object.keys(error)
        .sort()
        .map((key) => `${key}: ${walk((error as unknown as Record<string, unknown>)[key])}`);
      return `${here}Error(name ${JSON.stringify(error.name)}, message ${JSON.stringify(error.message)}, stack ${JSON.stringify(error.stack)}, cause ${"cause" in error ? walk(error.cause) : "none"}, errors ${"errors" in error ? walk(error.errors) : "none"}, {${extra.join(", ")}})`;
    }
    if (Array.isArray(object)) {
      const items: string[] = [];
      for (let i = 0; i < object.length; i++) items.push(i in object ? walk(object[i]) : "<hole>");
      return `${here}[${items.join(", ")}](length ${object.length})`;
    }
    const proto = Object.getPrototypeOf(object);
    const kind =
      proto === null
        ? "null-proto"
        : proto === Object.prototype || Object.getPrototypeOf(proto) === null
          ? "object"
          : `instance of ${(object.constructor as { name?: string } | undefined)?.name ?? "?"}`;
    const keys = Object.keys(object).sort();
    return `${here}${kind}{${keys.map((key) => `${JSON.stringify(key)}: ${walk((object as Record<string, unknown>)[key])}`).join(", ")}}`;
  };
  return walk(value);
}
