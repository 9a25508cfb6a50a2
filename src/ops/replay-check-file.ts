/**
 * `replay --check --from <file>`: the replay check of `replay-check.ts` over the runs of an export
 * file (`export-format.ts`) instead of a World — no World is opened, so a CI job can check a
 * deploy against production's runs exported to a file. The file is verified whole first (a
 * truncated or altered file is refused before anything is reported), then each run's log is
 * replayed with the loaded code, one run in memory at a time. Same filters and report as the
 * World's: runs in flight by default (`ended`: all), a workflow predicate, `since`.
 */

import { type RunRecord, TERMINAL_RUN_STATUSES } from "../world/types.ts";
import type { ExportedRun } from "./export-format.ts";
import { readExport } from "./export-read.ts";
import { checkLog, type ReplayCheckOptions, type ReplayCheckSummary } from "./replay-check.ts";

export interface ReplayCheckFileOptions extends Omit<ReplayCheckOptions, "world" | "workflows"> {
  path: string;
  /** Only runs whose workflow (full id) this accepts; all when omitted. */
  workflow?: (workflowName: string) => boolean;
}

/** The run record a replay needs, from the file's run line and log. */
function recordOf(run: ExportedRun): RunRecord {
  const { events } = run.input;
  const record: RunRecord = {
    ...run.record,
    input: events[0]?.payload ?? new Uint8Array(0),
    wakePending: false,
  };
  const last = events[events.length - 1];
  if (last?.payload !== undefined && last.type === "run_completed") record.output = last.payload;
  if (last?.payload !== undefined && last.type === "run_failed") record.error = last.payload;
  return record;
}

/** Checks every matching run of the file; `ExportFileError` for a file that is not whole. */
export async function replayCheckFile(options: ReplayCheckFileOptions): Promise<ReplayCheckSummary> {
  await readExport(options.path);
  const summary: ReplayCheckSummary = {
    checked: 0,
    byVerdict: { ok: 0, diverged: 0, unreadable: 0, "not-loaded": 0, failed: 0 },
    problems: [],
  };
  await readExport(options.path, {
    async run(run) {
      const record = recordOf(run);
      if (!options.ended && TERMINAL_RUN_STATUSES.has(record.status)) return;
      if (options.since !== undefined && record.createdAt < options.since) return;
      if (options.workflow !== undefined && !options.workflow(record.workflowName)) return;
      const result = await checkLog(options, record, run.input.events);
      summary.checked += 1;
      summary.byVerdict[result.verdict] += 1;
      if (result.verdict !== "ok") summary.problems.push(result);
      options.onResult?.(result);
    },
  });
  return summary;
}
