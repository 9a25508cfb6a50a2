/**
 * `inspect logs <runId>`: a run's console output (`ops/logs.ts`) as a table — time (with
 * milliseconds), step, attempt, level or stream, and the text in full (a line of several lines
 * continues on the rows below) — or as JSON rows with full ids and ISO times.
 */
import type { World } from "../world/types.ts";
import type { InspectOptions, InspectResult } from "./inspect.ts";
import { type LogEntry, type LogQuery, readRunLogs } from "./logs.ts";
import type { PayloadView } from "./payload-view.ts";
import { type Column, formatTable, shortName } from "./table.ts";

const iso = (at: number): string => new Date(at).toISOString();

/** The JSON row of an entry: full ids, an ISO time. */
function row(entry: LogEntry): Record<string, unknown> {
  const out: Record<string, unknown> = {
    seq: entry.seq,
    stepId: entry.stepId,
    stepName: entry.stepName,
    attempt: entry.attempt,
    at: iso(entry.at),
  };
  if (entry.encrypted) {
    out.encrypted = true;
    out.lines = entry.lines;
  } else {
    out.level = entry.level;
    out.text = entry.text;
  }
  return out;
}

/** The table: the fixed columns aligned, the text after them unshortened. */
function table(entries: readonly LogEntry[], ids: boolean): string {
  type Line = { entry: LogEntry; text: string; first: boolean };
  const lines: Line[] = entries.flatMap((entry) => {
    const text = entry.encrypted
      ? `<encrypted> (${entry.lines ?? 0} line${entry.lines === 1 ? "" : "s"}: --decrypt shows them)`
      : (entry.text ?? "");
    return text.split("\n").map((part, index) => ({ entry, text: part, first: index === 0 }));
  });
  const name = (entry: LogEntry): string => {
    if (entry.stepId === null) return "(workflow)";
    if (ids) return `${entry.stepName ?? "?"} ${entry.stepId}`;
    return entry.stepName === null ? entry.stepId : shortName(entry.stepName);
  };
  const columns: Column<Line>[] = [
    { header: "time", value: ({ entry, first }) => (first ? iso(entry.at) : "") },
    { header: "step", value: ({ entry, first }) => (first ? name(entry) : ""), max: ids ? 120 : 30 },
    {
      header: "attempt",
      value: ({ entry, first }) => (first && entry.attempt !== null ? String(entry.attempt) : ""),
    },
    {
      header: "stream",
      value: ({ entry, first }) => (first ? (entry.encrypted ? "-" : (entry.level ?? "")) : ""),
    },
  ];
  const prefix = formatTable(lines, columns).split("\n");
  return prefix
    .map((start, index) => {
      const text = index === 0 ? "TEXT" : (lines[index - 1]?.text ?? "");
      const width = Math.max(...prefix.map((line) => line.length));
      return `${start.padEnd(width)}  ${text}`.trimEnd();
    })
    .join("\n");
}

/** `inspect logs`: one page of run `runId`'s output. */
export async function inspectLogs(
  world: World,
  view: PayloadView,
  runId: string,
  options: InspectOptions,
): Promise<InspectResult> {
  const run = await world.runs.get(runId);
  await view.unlock(world, "logs", [runId]);
  const query: LogQuery = { limit: options.limit ?? 1000 };
  if (options.step !== undefined) query.step = options.step;
  if (options.cursor !== undefined) query.cursor = options.cursor;
  const page = await readRunLogs(world, view, run, query);
  const filtered = options.step === undefined ? "" : ` from step ${options.step}`;
  const result: InspectResult = {
    rows: page.entries.map(row),
    table:
      page.entries.length === 0
        ? `Run ${runId} has no console output${filtered}${options.cursor === undefined ? "" : " after this point"}.`
        : table(page.entries, options.ids === true),
  };
  if (page.nextCursor !== undefined) result.nextCursor = page.nextCursor;
  return result;
}
