/**
 * `stepwise upgrade <runId...> | --workflow <name> [--dry-run] [--json] [--load file]`: moves runs
 * to the version of their workflow in this checkout, each only once its log replays against it
 * (`ops/upgrade.ts`). Prints one line per run on stdout (moved, would move, left alone with why:
 * where its log and the code part, both sides), the count on stderr, with progress there for many
 * runs. Exit 0 when no run that should have moved was left alone, 1 otherwise.
 */
import { configure, processClient, shutdown } from "../../api/index.ts";
import { discoverWorkflowFiles, loadWorkflowFiles } from "../../ops/load.ts";
import { shortName } from "../../ops/table.ts";
import { LEFT_ALONE, type UpgradeResult, type UpgradeVerdict, upgradeRuns } from "../../ops/upgrade.ts";
import { resolveWorkflow } from "../../ops/workflow-names.ts";
import { note, print, UsageError } from "../output.ts";
import { startProgress } from "../progress.ts";

export interface UpgradeCommandOptions {
  workflow?: string[];
  load?: string[];
  dryRun?: boolean;
  json?: boolean;
}

/** How often the progress line is redrawn, in runs. */
const PROGRESS_EVERY = 20;

const short = (hash: string | undefined): string => (hash === undefined ? "none" : hash.slice(0, 12));

/** One run's line: what happened to it, and why when it was left alone. */
function line(result: UpgradeResult): string {
  const name = result.workflowName === undefined ? "" : ` ${shortName(result.workflowName)}`;
  const versions = `${short(result.fromHash)} → ${short(result.toHash)}`;
  switch (result.verdict) {
    case "upgraded":
      return `${result.runId}${name}: upgraded (${versions})`;
    case "safe":
      return `${result.runId}${name}: would be upgraded (${versions}); a dry run, nothing was written`;
    case "current":
    case "ended":
      return `${result.runId}${name}: skipped, ${result.message}`;
    default:
      return `${result.runId}${name}: left alone, ${result.message}`;
  }
}

const COUNTS: [UpgradeVerdict, string][] = [
  ["upgraded", "upgraded"],
  ["safe", "would be upgraded"],
  ["current", "already current"],
  ["ended", "ended (skipped)"],
  ["diverged", "would diverge"],
  ["busy", "busy"],
  ["changed", "changed while checked"],
  ["not-loaded", "of workflows not in this code"],
  ["unreadable", "unreadable (a key is missing)"],
  ["unsupported", "of an older or newer format"],
  ["not-found", "not found"],
  ["failed", "failed"],
];

/** Upgrades the runs; returns the exit code. */
export async function run(runIds: string[], options: UpgradeCommandOptions): Promise<number> {
  if (runIds.length > 0 && options.workflow !== undefined)
    throw new UsageError("give run ids or --workflow <name>, not both");
  if (runIds.length === 0 && options.workflow === undefined)
    throw new UsageError(
      "say which runs to upgrade: run ids, or --workflow <name> for every run in flight of it",
    );
  configure({ inProcessWorker: false });
  try {
    await loadWorkflowFiles(options.load ?? discoverWorkflowFiles());
    const client = processClient();
    const world = await client.world();
    let selection: { runIds: string[] } | { workflows: string[] } = { runIds };
    if (options.workflow !== undefined) {
      const workflows: string[] = [];
      for (const query of options.workflow) {
        const resolved = await resolveWorkflow(world, query);
        if (resolved.ids.length === 0) note(resolved.none);
        workflows.push(...resolved.ids);
      }
      selection = { workflows };
    }
    const progress = startProgress(
      options.dryRun ? "checking which runs would move to this code…" : "moving runs to this code…",
    );
    let seen = 0;
    const summary = await upgradeRuns(
      {
        world,
        payloads: client.payloadCodec(),
        limits: client.limits(),
        dryRun: options.dryRun === true,
        onResult: (result) => {
          seen += 1;
          if (!options.json) print(line(result));
          if (seen % PROGRESS_EVERY === 0) progress.update(`looked at ${seen} runs…`);
        },
      },
      selection,
    );
    const parts = COUNTS.filter(([verdict]) => summary.byVerdict[verdict] > 0).map(
      ([verdict, words]) => `${summary.byVerdict[verdict]} ${words}`,
    );
    const leftAlone = summary.results.filter((result) => LEFT_ALONE.has(result.verdict));
    progress.stop(
      `${summary.checked} run${summary.checked === 1 ? "" : "s"}${parts.length > 0 ? `: ${parts.join(", ")}` : ""}.${
        leftAlone.length > 0 ? " The runs left alone stay on the code they have; they finish with it." : ""
      }`,
    );
    if (options.json) {
      print(JSON.stringify({ checked: summary.checked, ...summary.byVerdict, runs: summary.results }));
    }
    return leftAlone.length === 0 ? 0 : 1;
  } finally {
    await shutdown();
  }
}
