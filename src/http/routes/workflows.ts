/**
 * `GET /workflows`: each workflow with stored runs, its language, its runs by status and the
 * p50 / p95 duration of its ended runs. Bounded work whatever the store's size, using only what
 * every World offers: the workflow names (`runs.workflowNames()`, an index probe per name), then
 * per workflow two index-ordered pages of at most `WINDOW` runs: its most recent runs (counted by
 * status; the durations of those that completed or failed) and its active runs (pending,
 * running, pausing, paused: counted even when older than the window). `window` says whether the
 * counts are exact (`complete`) or cover only the most recent runs.
 */
import { workflowLanguage } from "../../ops/run-language.ts";
import { RUN_STATUSES, type RunRecord, type RunStatus } from "../../world/types.ts";
import type { ResolvedOptions } from "../options.ts";
import { jsonResponse } from "../problem.ts";
import type { RouteContext } from "../router.ts";

/** How many of a workflow's most recent runs are counted and timed (one page of `runs.list`). */
export const WORKFLOW_STATS_WINDOW = 1000;
const ACTIVE: readonly RunStatus[] = ["pending", "running", "pausing", "paused"];

/** The value below which `fraction` of the sorted `values` lie (nearest rank). */
function percentile(sorted: readonly number[], fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] ?? 0;
}

/** The statistics of one workflow from its recent and its active runs. */
function statsOf(
  workflowName: string,
  recent: readonly RunRecord[],
  active: readonly RunRecord[],
  complete: boolean,
) {
  const counts = Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])) as Record<RunStatus, number>;
  for (const run of recent) if (!ACTIVE.includes(run.status)) counts[run.status] += 1;
  for (const run of active) counts[run.status] += 1;
  const durations = recent
    .filter((run) => (run.status === "completed" || run.status === "failed") && run.startedAt !== undefined)
    .map((run) => (run.completedAt ?? run.updatedAt) - (run.startedAt ?? run.createdAt))
    .sort((a, b) => a - b);
  return {
    workflowName,
    language: workflowLanguage(workflowName),
    counts,
    durationMs:
      durations.length === 0 ? null : { p50: percentile(durations, 0.5), p95: percentile(durations, 0.95) },
    window: { runs: recent.length, complete },
  };
}

/** 200 `[{ workflowName, language, counts, durationMs: { p50, p95 } | null, window }]`, by workflow id. */
export async function listWorkflowsRoute({ options }: RouteContext<ResolvedOptions>): Promise<Response> {
  const world = await options.client.world();
  const names = await world.runs.workflowNames();
  const stats = await Promise.all(
    names.map(async (workflowName) => {
      const [recent, active] = await Promise.all([
        world.runs.list({ workflowName, limit: WORKFLOW_STATS_WINDOW }),
        world.runs.list({ workflowName, status: ACTIVE, limit: WORKFLOW_STATS_WINDOW }),
      ]);
      return statsOf(
        workflowName,
        recent.items,
        active.items,
        recent.nextCursor === undefined && active.nextCursor === undefined,
      );
    }),
  );
  return jsonResponse(200, stats);
}
