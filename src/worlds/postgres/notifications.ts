/**
 * The postgres World's NOTIFY payloads. Every commit that others must hear about sends ONE
 * notification on the World's channel: JSON `{"o": origin, "n": notes}`, where `origin` names the
 * World instance that wrote (so it can ignore its own, which it already delivered in-process) and
 * each note is a change hint: `["q"]` queue, `["r", runId, status]` run, `["i", runId]` inbox,
 * `["s", runId, name]` stream, `["*"]` anything (when the notes would not fit in a notification).
 */
import { type RunStatus, TERMINAL_RUN_STATUSES, type WorldNotification } from "../../world/types.ts";

export type Note = ["q"] | ["r", string, string] | ["i", string] | ["s", string, string] | ["*"];

/** Postgres refuses payloads of 8000 bytes or more. */
const MAX_PAYLOAD = 7900;

export function notePayload(origin: string, notes: readonly Note[]): string {
  const payload = JSON.stringify({ o: origin, n: notes });
  return Buffer.byteLength(payload) <= MAX_PAYLOAD ? payload : JSON.stringify({ o: origin, n: [["*"]] });
}

/** The channel of a World's schema (an identifier: `LISTEN "<channel>"`). */
export function channelOf(schema: string): string {
  return `${schema}_changes`;
}

const STATUSES: ReadonlySet<string> = new Set<RunStatus>(["pending", "running", ...TERMINAL_RUN_STATUSES]);

function noteToNotification(note: unknown): WorldNotification | undefined {
  if (!Array.isArray(note)) return undefined;
  const [kind, a, b] = note as unknown[];
  const id = typeof a === "string" ? a : undefined;
  switch (kind) {
    case "q":
      return { type: "queue" };
    case "r":
      if (id === undefined) return undefined;
      return typeof b === "string" && STATUSES.has(b)
        ? { type: "run", runId: id, status: b as RunStatus }
        : { type: "run", runId: id };
    case "i":
      return id === undefined ? undefined : { type: "inbox", runId: id };
    case "s":
      return id === undefined || typeof b !== "string" ? undefined : { type: "stream", runId: id, name: b };
    default:
      return { type: "any" };
  }
}

/**
 * The hints in a notification from another World instance; nothing for this instance's own. A
 * payload that cannot be read (another version, say) still means "something changed".
 */
export function parseNotification(payload: string, ownOrigin: string): WorldNotification[] {
  let parsed: { o?: unknown; n?: unknown };
  try {
    parsed = JSON.parse(payload) as { o?: unknown; n?: unknown };
  } catch {
    return [{ type: "any" }];
  }
  if (parsed.o === ownOrigin) return [];
  if (!Array.isArray(parsed.n)) return [{ type: "any" }];
  const hints: WorldNotification[] = [];
  for (const note of parsed.n) {
    const hint = noteToNotification(note);
    if (hint) hints.push(hint);
  }
  return hints;
}
