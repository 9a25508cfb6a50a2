/**
 * Console output collected for one step attempt (or for the workflow body between two appends),
 * bounded: at most `MAX_LOG_LINES` lines and `MAX_LOG_BYTES` bytes of UTF-8 text. Past the bound
 * lines are counted, not kept (`truncated`); a line that crosses the byte bound is cut to what
 * fits. Direct writes to stdout or stderr arrive in arbitrary pieces: they are split into lines,
 * and a last piece without a newline becomes a line when the buffer is taken.
 */
import { formatWithOptions } from "node:util";
import type { CapturedLogs, LogLine } from "../serde/logs.ts";

/** Lines kept per attempt. */
export const MAX_LOG_LINES = 1000;
/** Bytes of text (UTF-8) kept per attempt. */
export const MAX_LOG_BYTES = 64 * 1024;

/** `args` as console prints them (`util.format`), without colours. */
export function formatLogArgs(args: readonly unknown[]): string {
  return formatWithOptions({ colors: false }, ...args);
}

export class LogBuffer {
  readonly #lines: LogLine[] = [];
  #bytes = 0;
  #droppedLines = 0;
  #droppedBytes = 0;
  /** Pieces of a direct write's line not yet ended by a newline, per stream. */
  readonly #partial = new Map<string, { at: number; text: string }>();
  #closed = false;
  /** A line was cut at the byte bound. */
  #cut = false;

  /** Whether anything was printed (kept or not). */
  get empty(): boolean {
    return this.#lines.length === 0 && this.#droppedLines === 0 && this.#partial.size === 0;
  }

  /** Adds one line (a console call's text, which may hold newlines). Ignored once taken. */
  add(level: string, text: string, at: number): void {
    if (this.#closed) return;
    const bytes = Buffer.byteLength(text);
    if (this.#lines.length >= MAX_LOG_LINES || this.#bytes >= MAX_LOG_BYTES) {
      this.#droppedLines += 1;
      this.#droppedBytes += bytes;
      return;
    }
    const room = MAX_LOG_BYTES - this.#bytes;
    if (bytes > room) {
      const kept = cutToBytes(text, room);
      const keptBytes = Buffer.byteLength(kept);
      this.#droppedBytes += bytes - keptBytes;
      this.#lines.push({ at, level, text: kept });
      this.#bytes += keptBytes;
      // The line was cut: the output is truncated even if nothing else comes.
      this.#cut = true;
      return;
    }
    this.#lines.push({ at, level, text });
    this.#bytes += bytes;
  }

  /** Adds a piece of a direct write to `stream` (`stdout`, `stderr`): whole lines become lines. */
  write(stream: string, piece: string, at: number): void {
    if (this.#closed) return;
    const pending = this.#partial.get(stream);
    let text = pending === undefined ? piece : pending.text + piece;
    const lineAt = pending?.at ?? at;
    let newline = text.indexOf("\n");
    let first = true;
    while (newline !== -1) {
      this.add(stream, text.slice(0, newline), first ? lineAt : at);
      first = false;
      text = text.slice(newline + 1);
      newline = text.indexOf("\n");
    }
    if (text === "") this.#partial.delete(stream);
    // A line longer than the bound is not held back for its end (memory stays bounded).
    else if (text.length > MAX_LOG_BYTES) {
      this.#partial.delete(stream);
      this.add(stream, text, first ? lineAt : at);
    } else this.#partial.set(stream, { at: first ? lineAt : at, text });
  }

  /** Ends the buffer: what it holds, or undefined when nothing was printed. Later lines are dropped. */
  take(): CapturedLogs | undefined {
    for (const [stream, { at, text }] of this.#partial) this.add(stream, text, at);
    this.#partial.clear();
    this.#closed = true;
    if (this.#lines.length === 0 && this.#droppedLines === 0) return undefined;
    const logs: CapturedLogs = { lines: this.#lines };
    if (this.#droppedLines > 0 || this.#cut)
      logs.truncated = { lines: this.#droppedLines, bytes: this.#droppedBytes };
    return logs;
  }
}

/** The longest prefix of `text` whose UTF-8 form fits in `bytes` (never half a character). */
function cutToBytes(text: string, bytes: number): string {
  if (bytes <= 0) return "";
  const encoded = Buffer.from(text).subarray(0, bytes);
  // A cut inside a multi-byte character decodes to U+FFFD at the end: drop it.
  return encoded.toString("utf8").replace(/\uFFFD+$/u, "");
}
