/**
 * Durations as users write them: milliseconds, strings such as '10s', '5m', '2h' or '7 days', or a
 * `Date` meaning "until then". Everything is resolved to an absolute epoch-millisecond time.
 */
import ms from "ms";
import { InvalidDurationError } from "../errors/runtime.ts";

export type Duration = number | string | Date;

/** Milliseconds for a relative duration (number or string). Throws `InvalidDurationError`. */
export function parseDurationMs(value: number | string, context?: string): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) throw new InvalidDurationError(value, context);
    return value;
  }
  if (typeof value === "string") {
    const trimmed = value.trim();
    // ms() accepts bare numbers as milliseconds too; an empty string or garbage gives undefined/NaN.
    const parsed = trimmed === "" ? Number.NaN : (ms as (v: string) => number | undefined)(trimmed);
    if (parsed === undefined || !Number.isFinite(parsed) || parsed < 0) {
      throw new InvalidDurationError(value, context);
    }
    return parsed;
  }
  throw new InvalidDurationError(value, context);
}

/** The absolute time (epoch ms) a duration ends at, counted from `now`. */
export function resolveDeadline(value: Duration, now: number, context?: string): number {
  if (value instanceof Date) {
    const time = value.getTime();
    if (Number.isNaN(time)) throw new InvalidDurationError(value, context);
    return time;
  }
  return now + parseDurationMs(value, context);
}

/** True for anything `resolveDeadline` would accept, without throwing. */
export function isDuration(value: unknown): value is Duration {
  try {
    resolveDeadline(value as Duration, 0);
    return true;
  } catch {
    return false;
  }
}
