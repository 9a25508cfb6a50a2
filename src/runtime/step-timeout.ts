/**
 * Step timeouts as users write them: `fn.timeout = "30s"` (or milliseconds), per attempt. A value
 * is checked where it is written: `registerStep` checks the one a function already has and turns
 * the property into one that checks every later assignment, so `fn.timeout = "soon"` throws an
 * `InvalidDurationError` at that line, when the module loads. The executor reads it again at each
 * attempt (`stepTimeoutMs`), which catches anything that got past (a property redefined by hand).
 */
import { InvalidDurationError } from "../errors/runtime.ts";
import { parseDurationMs } from "../util/duration.ts";
import { type Clock, wallClock } from "./clock.ts";

/**
 * Milliseconds for a step timeout: a positive number of milliseconds or a duration string
 * (`'30s'`, `'5m'`, `'2h'`). `undefined` means no timeout. Anything else — zero, a negative or
 * non-finite number, a `Date` (a timeout is per attempt, not a deadline), text `ms` cannot read —
 * is an `InvalidDurationError` naming the step.
 */
export function parseStepTimeout(value: unknown, stepName: string): number | undefined {
  if (value === undefined) return undefined;
  const refuse = () =>
    new InvalidDurationError(
      value,
      `The timeout of step ${stepName}`,
      "Use milliseconds above 0 (30000) or a duration string ('30s', '5m', '2h'): a timeout bounds each attempt, so it is not a Date.",
    );
  if (typeof value !== "number" && typeof value !== "string") throw refuse();
  let ms: number;
  try {
    ms = parseDurationMs(value);
  } catch {
    throw refuse();
  }
  if (ms <= 0) throw refuse();
  return ms;
}

/** The timeout of `fn` in milliseconds, or undefined; `InvalidDurationError` when malformed. */
export function stepTimeoutMs(fn: { timeout?: unknown }, stepName: string): number | undefined {
  return parseStepTimeout(fn.timeout, stepName);
}

/**
 * Checks the timeout `fn` has now and makes every later `fn.timeout = …` check its value (throwing
 * `InvalidDurationError` at the assignment). A function whose property cannot be redefined keeps
 * it as it is: the executor still checks it at each attempt.
 */
export function guardStepTimeout(fn: object, stepName: string): void {
  let current: unknown = (fn as { timeout?: unknown }).timeout;
  parseStepTimeout(current, stepName);
  try {
    Object.defineProperty(fn, "timeout", {
      configurable: true,
      enumerable: true,
      get: () => current,
      set: (value: unknown) => {
        parseStepTimeout(value, stepName);
        current = value;
      },
    });
  } catch {
    // A frozen or non-extensible function: nothing can be assigned later either.
  }
}

/**
 * Calls `onTimeout` after `ms` on `clock` (the wall clock by default, whose timers wait longer
 * than ~24.8 days in steps). The timer never keeps the process alive. Returns a function that
 * cancels it.
 */
export function armTimeout(ms: number, onTimeout: () => void, clock: Clock = wallClock): () => void {
  return clock.at(clock.now() + ms, onTimeout);
}
