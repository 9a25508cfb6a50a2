/**
 * `stepwise replay --check [--workflow name] [--since when] [--load file] [--from export]`: replays the
 * stored runs (or an export file's, with no World opened) against the workflow code in this checkout and reports each run that would not replay (see
 * `ops/replay-check.ts`), with progress on stderr. Exit 0 when every run replays cleanly, 1 when
 * any diverges or cannot be checked: a deploy gate for CI.
 */
import { configure, getWorld, shutdown } from "../../api/index.ts";
import { discoverWorkflowFiles, loadWorkflowFiles } from "../../ops/load.ts";
import { type ReplayCheckResult, type ReplayCheckSummary, replayCheck } from "../../ops/replay-check.ts";
import { replayCheckFile } from "../../ops/replay-check-file.ts";
import { shortName } from "../../ops/table.ts";
import { namesWorkflow, resolveWorkflow } from "../../ops/workflow-names.ts";
import { getLimits, getPayloadCodec } from "../../process/process.ts";
import { note, print } from "../output.ts";
import { startProgress } from "../progress.ts";

export interface ReplayCommandOptions {
  check: boolean;
  workflow?: string[];
  /** Epoch ms. */
  since?: number;
  load?: string[];
  json?: boolean;
  /** Also the runs that have ended. */
  all?: boolean;
  /** Replay the runs of this export file instead of the World's. */
  from?: string;
}

/** How often the progress line is redrawn, in runs. */
const PROGRESS_EVERY = 100;

function line(result: ReplayCheckResult): string {
  return `${result.runId} ${shortName(result.workflowName)} (${result.status}, ${result.events} events): ${result.message ?? result.verdict}`;
}

/** Checks the runs; returns the exit code. */
export async function run(options: ReplayCommandOptions): Promise<number> {
  configure({ inProcessWorker: false });
  try {
    await loadWorkflowFiles(options.load ?? discoverWorkflowFiles());
    const progress = startProgress(
      `replaying the ${options.all ? "stored" : "in-flight"} runs${options.from === undefined ? "" : ` of ${options.from}`} against this code…`,
    );
    let seen = 0;
    let problems = 0;
    const common = {
      payloads: getPayloadCodec(),
      limits: getLimits(),
      ...(options.since === undefined ? {} : { since: options.since }),
      ended: options.all === true,
      onResult: (result: ReplayCheckResult) => {
        seen += 1;
        if (result.verdict !== "ok") {
          problems += 1;
          if (!options.json) print(line(result));
        }
        if (seen % PROGRESS_EVERY === 0)
          progress.update(`replayed ${seen} runs, ${problems} would not replay…`);
      },
    };
    let summary: ReplayCheckSummary;
    try {
      if (options.from !== undefined) {
        // No World: the file holds the runs. A workflow is matched by name against the file's runs.
        const queries = options.workflow;
        summary = await replayCheckFile({
          ...common,
          path: options.from,
          ...(queries === undefined
            ? {}
            : { workflow: (id: string) => queries.some((q) => namesWorkflow(q, id)) }),
        });
      } else {
        const world = await getWorld();
        let workflows: string[] | undefined;
        if (options.workflow !== undefined) {
          workflows = [];
          for (const query of options.workflow) {
            const resolved = await resolveWorkflow(world, query);
            if (resolved.ids.length === 0) note(resolved.none);
            workflows.push(...resolved.ids);
          }
        }
        summary = await replayCheck({ ...common, world, ...(workflows === undefined ? {} : { workflows }) });
      }
    } catch (error) {
      progress.stop();
      throw error;
    }
    const { byVerdict } = summary;
    const parts = [`${byVerdict.ok} replay cleanly`];
    if (byVerdict.diverged > 0) parts.push(`${byVerdict.diverged} diverge`);
    if (byVerdict["not-loaded"] > 0) parts.push(`${byVerdict["not-loaded"]} of workflows not in this code`);
    if (byVerdict.unreadable > 0) parts.push(`${byVerdict.unreadable} unreadable (a key is missing)`);
    if (byVerdict.failed > 0) parts.push(`${byVerdict.failed} failed to replay`);
    progress.stop(`checked ${summary.checked} run${summary.checked === 1 ? "" : "s"}: ${parts.join(", ")}.`);
    if (options.json) {
      print(
        JSON.stringify({
          checked: summary.checked,
          ...byVerdict,
          problems: summary.problems,
        }),
      );
    }
    return summary.problems.length === 0 ? 0 : 1;
  } finally {
    await shutdown();
  }
}
