/**
 * Parsers for the CLI's option values. Each turns the text a person typed into the value a command
 * needs, or throws commander's `InvalidArgumentError` with a sentence saying what was expected, so
 * a malformed value is a usage error (exit 2, one line) before any command runs.
 */
import { InvalidArgumentError } from "commander";
import { EVENT_TYPE_PATTERN } from "../errors/events.ts";
import { parseDurationMs } from "../util/duration.ts";
import { RUN_ID_RULE, runIdProblem } from "../util/ids.ts";
import { RUN_STATUSES, type RunStatus } from "../world/types.ts";

/** The run statuses a World stores, which `inspect runs --status` filters on. */
export { RUN_STATUSES };

/** The statuses `inspect` shows for a running run, which are not stored (and so not filters). */
const SHOWN_ONLY = ["sleeping", "waiting", "retrying"];

/** A whole number above zero (`--limit`, `--concurrency`). */
export function positiveInteger(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value) || value <= 0)
    throw new InvalidArgumentError("Expected a whole number above 0.");
  return value;
}

/** A lease time in milliseconds: a whole number, at least 200. */
export function leaseMilliseconds(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value) || value < 200)
    throw new InvalidArgumentError("Expected a whole number of milliseconds, at least 200.");
  return value;
}

/** A time in milliseconds that may be zero (`--stop-grace-ms`): a whole number, at least 0. */
export function milliseconds(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value) || value < 0)
    throw new InvalidArgumentError("Expected a whole number of milliseconds, at least 0.");
  return value;
}

/** `--status` of `inspect runs`: one status or several, comma-separated. */
export function runStatusList(text: string): RunStatus[] {
  const statuses = text.split(",").map((status) => status.trim());
  for (const status of statuses) {
    if (RUN_STATUSES.includes(status as RunStatus)) continue;
    if (SHOWN_ONLY.includes(status))
      throw new InvalidArgumentError(
        `A ${status} run is stored as running: filter with --status running (the STATUS column then says what each one waits for).`,
      );
    throw new InvalidArgumentError(`Expected one or more of ${RUN_STATUSES.join(", ")}, comma-separated.`);
  }
  return statuses as RunStatus[];
}

/** A JSON value typed on the command line (`start`'s arguments, a hook payload). */
export function jsonValue(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`${what} is not valid JSON (${(error as Error).message}): ${text}`);
  }
}

/** `send-event`'s `<type>`: 1 to 100 letters, digits and `_ . : -`, as `waitForEvent` takes it. */
export function eventType(text: string): string {
  if (!EVENT_TYPE_PATTERN.test(text))
    throw new InvalidArgumentError(
      'Expected an event type of 1 to 100 letters, digits and "_", ".", ":", "-" (the type the workflow\'s waitForEvent waits for).',
    );
  return text;
}

/** `start --id`: a run id of the user's choosing, checked with the API's one rule. */
export function runId(text: string): string {
  const problem = runIdProblem(text);
  if (problem !== undefined)
    throw new InvalidArgumentError(`The run id is not valid: ${problem}. ${RUN_ID_RULE}`);
  return text;
}

/**
 * A point in time: an ISO 8601 date or date-time (`2026-12-01`, `2026-12-01T09:00:00Z`), or a
 * duration ago (`7 days`, `12h`). Returns epoch ms.
 */
export function pointInTime(text: string): number {
  const trimmed = text.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const at = Date.parse(trimmed);
    if (Number.isFinite(at)) return at;
  } else {
    try {
      return Date.now() - parseDurationMs(trimmed);
    } catch {
      // said below
    }
  }
  throw new InvalidArgumentError(
    'Expected a date ("2026-12-01", "2026-12-01T09:00:00Z") or a duration ago ("7 days", "12h").',
  );
}

/** A TCP port, 0 to 65535 (0: any free one). */
export function port(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value > 65_535) {
    throw new InvalidArgumentError(`expected a port number from 0 to 65535, got "${text}".`);
  }
  return value;
}
