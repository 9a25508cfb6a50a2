/**
 * Whether a tool's result can go to a model: the AI SDK sends tool results as JSON, so anything
 * JSON would drop or mangle (a function, a Map, a Date, NaN, a cycle, ...) is reported with where
 * it is. No Node imports (it runs in the workflow sandbox).
 */

/** A description of the first non-JSON value in `value` ("a Map at output.items"), or undefined. */
export function jsonProblem(
  value: unknown,
  path = "output",
  seen: Set<object> = new Set(),
): string | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
  if (value === undefined) return path === "output" ? undefined : `undefined at ${path}`;
  if (typeof value === "number") return Number.isFinite(value) ? undefined : `${value} at ${path}`;
  if (typeof value !== "object") return `a ${typeof value} at ${path}`;
  if (seen.has(value)) return `a circular reference at ${path}`;
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) {
        const problem = jsonProblem(item, `${path}[${i}]`, seen);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto !== null && Object.getPrototypeOf(proto) !== null)
      return `a ${(value as { constructor?: { name?: string } }).constructor?.name ?? "class instance"} at ${path}`;
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const problem = jsonProblem(item, `${path}.${key}`, seen);
      if (problem !== undefined) return problem;
    }
    return undefined;
  } finally {
    seen.delete(value);
  }
}
