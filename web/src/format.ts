/**
 * Formatting shared by the pages: durations, times, short workflow and step names, JSON values
 * as indented text (always rendered as text, never as HTML).
 */

/** `1.2 s`, `340 ms`, `3 min 5 s`, `2 h 4 min`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

/** A local date and time with seconds (and milliseconds when `precise`). */
export function formatTime(iso: string | null | undefined, precise = false): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const text = date.toLocaleString(undefined, { hour12: false });
  return precise ? `${text}.${String(date.getMilliseconds()).padStart(3, "0")}` : text;
}

/** Milliseconds between two ISO times (the second defaults to now). */
export function between(from: string | null | undefined, to?: string | null): number | null {
  if (!from) return null;
  const start = Date.parse(from);
  const end = to ? Date.parse(to) : Date.now();
  return Number.isNaN(start) || Number.isNaN(end) ? null : end - start;
}

/** The last `//` part of a workflow or step id (`workflow//workflows/order.ts//order` → `order`). */
export function shortName(id: string): string {
  const parts = id.split("//");
  return parts[parts.length - 1] || id;
}

/** The file part of a workflow id, when it has one. */
export function fileOf(id: string): string | undefined {
  const parts = id.split("//");
  return parts.length >= 3 ? parts[parts.length - 2] : undefined;
}

/** A JSON value as indented text. */
export function formatJson(value: unknown): string {
  if (value === undefined) return "undefined";
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}
