/** Plain-text tables for the CLI: aligned columns, long cells shortened with an ellipsis. */

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  /** Longest cell before it is shortened (default 60). */
  max?: number;
}

function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(1, max - 1))}…`;
}

export function formatTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((column) => shorten(column.value(row), column.max ?? 60)));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => line[i]?.length ?? 0)),
  );
  const render = (line: readonly string[]): string =>
    line
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [render(columns.map((column) => column.header.toUpperCase())), ...cells.map(render)].join("\n");
}

/** The short name of a workflow or step id: `workflow//workflows/order.ts//order` → `order`. */
export function shortName(id: string): string {
  const at = id.lastIndexOf("//");
  return at === -1 ? id : id.slice(at + 2);
}

/** A timestamp as the CLI shows it: ISO 8601 in UTC, without milliseconds noise. */
export function formatTime(epochMs: number | undefined): string {
  return epochMs === undefined ? "-" : new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Event metadata with its times as ISO 8601: every number under a key ending in `At`
 * (`resumeAt`, `retryAt`) is an epoch-ms time, which a person cannot read.
 */
export function isoTimes(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data))
    out[key] =
      key.endsWith("At") && typeof value === "number" && Number.isFinite(value)
        ? new Date(value).toISOString()
        : value;
  return out;
}

/** A duration between two times, e.g. "350ms", "1.2s", "5s", "3m 4s", "2h 5m", "3d 4h". */
export function formatDuration(from: number | undefined, to: number | undefined): string {
  if (from === undefined || to === undefined) return "-";
  const ms = Math.max(0, Math.round(to - from));
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, "")}s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m ${Math.floor((ms % 60_000) / 1000)}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}
