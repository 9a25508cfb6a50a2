/**
 * Reading a route's query string, with one voice for what is wrong in it: every problem is
 * `400 INVALID_QUERY` naming the parameter and what was expected, and quoted values are cut to 60
 * characters. Used by the routes that take query parameters (list-runs, logs, timeline's events).
 */
import { HttpProblem } from "./problem.ts";

/** A 400 INVALID_QUERY with `message`. */
export function invalidQuery(message: string): HttpProblem {
  return new HttpProblem(400, "INVALID_QUERY", message);
}

/** A value as a message quotes it: JSON, cut to 60 characters. */
export function quoteValue(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/** Refuses any parameter not in `known` (400 listing them). */
export function onlyParameters(url: URL, known: readonly string[]): void {
  for (const name of url.searchParams.keys()) {
    if (!known.includes(name)) {
      const which =
        known.length === 1 ? `the parameter is ${known[0]}` : `the parameters are ${known.join(", ")}`;
      throw invalidQuery(`Unknown query parameter ${quoteValue(name)}; ${which}.`);
    }
  }
}

/** The one value of a parameter that may be given once (400 when repeated). */
export function singleParameter(url: URL, name: string): string | undefined {
  const values = url.searchParams.getAll(name);
  if (values.length > 1)
    throw invalidQuery(`${name} may be given once; it was given ${values.length} times.`);
  return values[0];
}

/** `limit`: a whole number from 1 to `max`, `fallback` when absent (400 otherwise). */
export function limitParameter(url: URL, max: number, fallback: number): number {
  const text = singleParameter(url, "limit");
  if (text === undefined) return fallback;
  const value = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 1 && value <= max))
    throw invalidQuery(`limit must be a whole number from 1 to ${max} (got ${quoteValue(text)}).`);
  return value;
}
