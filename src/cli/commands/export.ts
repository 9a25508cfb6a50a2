/**
 * `stepwise export [runId…] --out <file>`: writes the runs of the environment's World (all, or by
 * id, `--workflow`, `--status`, `--since`) to an export file (`ops/export.ts`), through
 * `<file>.partial` renamed at the end, so a failed export never leaves a file that looks whole.
 * Progress on stderr, the summary on stdout (`--json` for scripts).
 */

import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { type ExportReport, exportRuns } from "../../ops/export.ts";
import type { ExportFilter } from "../../ops/export-format.ts";
import { resolveWorkflow } from "../../ops/workflow-names.ts";
import { createWorldFromEnv } from "../../process/world-env.ts";
import type { RunStatus } from "../../world/types.ts";
import { note, print } from "../output.ts";
import { startProgress } from "../progress.ts";

export interface ExportCommandOptions {
  out: string;
  workflow?: string[];
  status?: RunStatus[];
  /** Epoch ms. */
  since?: number;
  includeLeased?: boolean;
  json?: boolean;
}

/** The summary, in words. */
export function formatExportReport(report: ExportReport, out: string): string {
  const c = report.counts;
  const lines = [
    `exported ${c.runs} run${c.runs === 1 ? "" : "s"} to ${out}: ${c.events} events, ${c.inbox} inbox items, ${c.chunks} stream chunks, ${c.messages} queue messages, ${c.bundles} workflow bundle(s)`,
  ];
  if (report.leased.length > 0)
    lines.push(
      `${report.leased.length} run(s) were exported while a worker held them (--include-leased): their steps in flight run again after the import`,
    );
  if (report.missingBundles.length > 0)
    lines.push(
      `runs are pinned to ${report.missingBundles.length} bundle version(s) this World does not hold (${report.missingBundles.map((h) => h.slice(0, 12)).join(", ")}): they replay with the current code there`,
    );
  lines.push(`Next: npx stepwise import ${out} (with the destination World in the environment).`);
  return lines.join("\n");
}

/** Exports; returns the exit code. */
export async function run(runIds: string[], options: ExportCommandOptions): Promise<number> {
  const world = await createWorldFromEnv();
  const partial = `${options.out}.partial`;
  const progress = startProgress("export: listing runs…");
  try {
    const filter: ExportFilter = {};
    if (runIds.length > 0) filter.runIds = runIds;
    if (options.workflow !== undefined) {
      filter.workflows = [];
      for (const query of options.workflow) {
        const resolved = await resolveWorkflow(world, query);
        if (resolved.ids.length === 0) note(resolved.none);
        filter.workflows.push(...resolved.ids);
      }
    }
    if (options.status !== undefined) filter.statuses = options.status;
    if (options.since !== undefined) filter.since = options.since;
    const file = createWriteStream(partial, { flags: "w" });
    const failed = once(file, "error").then(([error]) => {
      throw error;
    });
    failed.catch(() => {});
    const write = async (text: string): Promise<void> => {
      if (!file.write(text)) await Promise.race([once(file, "drain"), failed]);
    };
    let report: ExportReport;
    try {
      report = await exportRuns({
        world,
        write,
        filter,
        includeLeased: options.includeLeased === true,
        onProgress: (done, total) => {
          if (done % 100 === 0 || done === total) progress.update(`export: ${done}/${total} runs`);
        },
      });
      file.end();
      await Promise.race([once(file, "finish"), failed]);
    } catch (error) {
      file.destroy();
      await rm(partial, { force: true });
      throw error;
    }
    await rename(partial, options.out);
    progress.stop();
    print(
      options.json
        ? JSON.stringify({ file: options.out, ...report }, null, 2)
        : formatExportReport(report, options.out),
    );
    return 0;
  } catch (error) {
    progress.stop();
    throw error;
  } finally {
    await world.close();
  }
}
