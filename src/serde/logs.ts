/**
 * The stored form of console output (step logs): what one step attempt, or the workflow body
 * between two appends, printed. It is a payload like the others (`payload.ts`: envelope, devalue
 * text, encrypted and bound to its place when the run is), kept base64 in the metadata of the
 * event it travels with (`SealedLogs`, world/events.ts) so that no World stores anything new.
 *
 * The text is devalue's form of `{ lines: [{ at, level, text }], truncated?: { lines, bytes } }`:
 * `at` is epoch ms, `level` the console method (`log`, `info`, `debug`, `warn`, `error`, `trace`)
 * or the stream a direct write went to (`stdout`, `stderr`), `text` the line as console formats it
 * (`util.format`, no colours). `truncated` counts the lines and bytes left out past the bound.
 * The Python SDK writes the same (python/src/stepwise/_engine/output.py).
 */
import type { SealedLogs } from "../world/events.ts";
import { encodeValue } from "./codec.ts";
import type { PayloadCodec, PayloadScope } from "./payload.ts";

/** One line of console output. */
export interface LogLine {
  /** When it was printed, epoch ms. */
  at: number;
  /** The console method (`log`, `info`, `debug`, `warn`, `error`, `trace`), or `stdout` / `stderr`. */
  level: string;
  text: string;
}

/** What was captured, and what was left out past the bound. */
export interface CapturedLogs {
  lines: LogLine[];
  truncated?: { lines: number; bytes: number };
}

/** Stores `logs` as a payload of `scope` at `place`, for an event's metadata. */
export function sealLogs(
  payloads: PayloadCodec,
  scope: PayloadScope,
  place: string,
  logs: CapturedLogs,
): SealedLogs {
  const value: CapturedLogs =
    logs.truncated === undefined ? { lines: logs.lines } : { lines: logs.lines, truncated: logs.truncated };
  const bytes = payloads.encode(scope, place, encodeValue(value));
  const sealed: SealedLogs = { sealed: Buffer.from(bytes).toString("base64"), lines: logs.lines.length };
  if (logs.truncated !== undefined) sealed.truncated = true;
  return sealed;
}

/** The stored bytes of sealed logs. */
export function logBytes(logs: SealedLogs): Uint8Array {
  return new Uint8Array(Buffer.from(logs.sealed, "base64"));
}

/**
 * Stored logs from their decoded value (`decodeValue` of the payload's text). Lines of a shape this
 * version does not know are kept with what can be read of them, so a newer writer's extra fields
 * never hide output.
 */
export function readLogs(value: unknown): CapturedLogs {
  const stored = value as { lines?: unknown; truncated?: unknown } | null | undefined;
  const lines: LogLine[] = [];
  for (const line of Array.isArray(stored?.lines) ? stored.lines : []) {
    const { at, level, text } = (line ?? {}) as Record<string, unknown>;
    lines.push({
      at: typeof at === "number" ? at : 0,
      level: typeof level === "string" ? level : "log",
      text: typeof text === "string" ? text : String(text),
    });
  }
  const out: CapturedLogs = { lines };
  const truncated = stored?.truncated as { lines?: unknown; bytes?: unknown } | null | undefined;
  if (truncated !== undefined && truncated !== null)
    out.truncated = { lines: Number(truncated.lines ?? 0), bytes: Number(truncated.bytes ?? 0) };
  return out;
}
