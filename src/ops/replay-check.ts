/**
 * "Will this deploy break anything?" — replays stored runs against the workflow code loaded in
 * this process and says, per run, whether it replays cleanly or where it diverges: the event, what
 * the log recorded there and what the code makes instead — by default the runs in flight, which
 * a deploy can break, and with `ended` the runs that have ended too. Nothing executes (no step runs, nothing
 * is written): each run's log is read and replayed in a fresh machine, as a worker would before
 * driving it (`runtime/replay-run.ts`). Runs are read a page at a time, newest first, so thousands
 * of runs cost one page of records in memory at a time.
 */

import type { Limits } from "../runtime/limits.ts";
import type { Divergence } from "../runtime/machine.ts";
import { getWorkflowBundle } from "../runtime/registry.ts";
import { planReplay } from "../runtime/replay-plan.ts";
import { replayRun } from "../runtime/replay-run.ts";
import { PayloadDecryptionError } from "../serde/errors.ts";
import type { PayloadCodec } from "../serde/payload.ts";
import type { EventRecord } from "../world/events.ts";
import {
  RUN_STATUSES,
  type RunRecord,
  type RunStatus,
  TERMINAL_RUN_STATUSES,
  type World,
} from "../world/types.ts";

/**
 * ok: replays cleanly; diverged: the code no longer makes what the log recorded; unreadable: a
 * payload this process cannot decrypt (its key is missing); not-loaded: the run's workflow is not
 * in the loaded code (removed, renamed, or its file not loaded); failed: the replay threw.
 */
export type ReplayVerdict = "ok" | "diverged" | "unreadable" | "not-loaded" | "failed";

export interface ReplayCheckResult {
  runId: string;
  workflowName: string;
  status: RunRecord["status"];
  verdict: ReplayVerdict;
  /** The log's length. */
  events: number;
  divergence?: Divergence;
  /** What went wrong, in words (every verdict but `ok`). */
  message?: string;
}

export interface ReplayCheckOptions {
  world: World;
  payloads: PayloadCodec;
  limits: Limits;
  /** Only runs of these workflows (full ids); all runs when omitted. */
  workflows?: readonly string[];
  /** Only runs created at or after this time (epoch ms). */
  since?: number;
  /**
   * Also runs that have ended (completed, failed, cancelled). By default only runs in flight are
   * checked: a deploy cannot break a run that has ended, but their logs are histories worth
   * replaying too.
   */
  ended?: boolean;
  /** Told of each run once it is checked. */
  onResult?: (result: ReplayCheckResult) => void;
}

export interface ReplayCheckSummary {
  checked: number;
  byVerdict: Record<ReplayVerdict, number>;
  /** The runs that did not replay cleanly (every verdict but `ok`). */
  problems: ReplayCheckResult[];
}

const PAGE = 200;
const IN_FLIGHT: readonly RunStatus[] = RUN_STATUSES.filter((status) => !TERMINAL_RUN_STATUSES.has(status));

/** Checks every matching run; see the module comment. */
export async function replayCheck(options: ReplayCheckOptions): Promise<ReplayCheckSummary> {
  const summary: ReplayCheckSummary = {
    checked: 0,
    byVerdict: { ok: 0, diverged: 0, unreadable: 0, "not-loaded": 0, failed: 0 },
    problems: [],
  };
  let cursor: string | undefined;
  for (;;) {
    const page = await options.world.runs.list({
      limit: PAGE,
      ...(options.ended ? {} : { status: IN_FLIGHT }),
      ...(options.workflows === undefined ? {} : { workflowName: options.workflows }),
      ...(cursor === undefined ? {} : { cursor }),
    });
    let older = false;
    for (const run of page.items) {
      // Newest first: past `since`, every later run is older still.
      if (options.since !== undefined && run.createdAt < options.since) {
        older = true;
        break;
      }
      const result = await checkRun(options, run);
      summary.checked += 1;
      summary.byVerdict[result.verdict] += 1;
      if (result.verdict !== "ok") summary.problems.push(result);
      options.onResult?.(result);
    }
    if (older || page.nextCursor === undefined) return summary;
    cursor = page.nextCursor;
  }
}

/** Replays one run against the loaded code. */
export async function checkRun(
  options: Pick<ReplayCheckOptions, "world" | "payloads" | "limits">,
  run: RunRecord,
): Promise<ReplayCheckResult> {
  try {
    return await checkLog(options, run, await options.world.events.list(run.runId));
  } catch (error) {
    const base = { runId: run.runId, workflowName: run.workflowName, status: run.status, events: run.seq };
    return failedCheck(base, error);
  }
}

/** What a replay that threw says. */
function failedCheck(base: Omit<ReplayCheckResult, "verdict">, error: unknown): ReplayCheckResult {
  if (PayloadDecryptionError.is(error)) {
    return { ...base, verdict: "unreadable", message: (error as Error).message };
  }
  return { ...base, verdict: "failed", message: (error as Error).message ?? String(error) };
}

/** Replays one run's log (from a World or an export file) against the loaded code. */
export async function checkLog(
  options: Pick<ReplayCheckOptions, "payloads" | "limits">,
  run: RunRecord,
  events: readonly EventRecord[],
): Promise<ReplayCheckResult> {
  const base = { runId: run.runId, workflowName: run.workflowName, status: run.status, events: run.seq };
  if (getWorkflowBundle(run.workflowName) === undefined) {
    return {
      ...base,
      verdict: "not-loaded",
      message: `workflow ${run.workflowName} is not in the loaded code (removed or renamed, or its file was not loaded: --load <file>)`,
    };
  }
  try {
    const machine = await replayRun(run, events, {
      payloads: options.payloads,
      limits: options.limits,
      log: () => {},
    });
    if (machine.divergence !== undefined) {
      const { seq, logHas, codeMakes } = machine.divergence;
      return {
        ...base,
        verdict: "diverged",
        divergence: machine.divergence,
        message: `diverges${seq === undefined ? "" : ` at event ${seq}`}: the log has ${logHas}, the code makes ${codeMakes}`,
      };
    }
    const terminal = planReplay(events).terminal;
    // The workflow itself ended the run there (not a cancel, not the runtime), but the code goes on.
    const endedByWorkflow =
      terminal?.type === "run_completed" ||
      (terminal?.type === "run_failed" && terminal.data.reason === undefined);
    if (terminal !== undefined && endedByWorkflow && !machine.finished) {
      const divergence: Divergence = {
        seq: terminal.seq,
        logHas: `the run's end (${terminal.type})`,
        codeMakes: "more calls (the workflow no longer ends there)",
      };
      return {
        ...base,
        verdict: "diverged",
        divergence,
        message: `diverges at event ${terminal.seq}: the log has ${divergence.logHas}, the code makes ${divergence.codeMakes}`,
      };
    }
    return { ...base, verdict: "ok" };
  } catch (error) {
    return failedCheck(base, error);
  }
}
