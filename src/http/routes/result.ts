/**
 * `GET /runs/:runId/result?wait=<ms>`: a long-poll for a run's outcome. Answers 200 with the run's
 * view (output or error) as soon as it has ended, or 202 with its current status when `wait` runs
 * out (at most `maxWaitMs`) or the client goes away.
 */

import { waitForRun } from "../../client/watch.ts";
import { type RunStatus, TERMINAL_RUN_STATUSES } from "../../world/types.ts";
import type { ResolvedOptions } from "../options.ts";
import { HttpProblem, jsonResponse } from "../problem.ts";
import type { RouteContext } from "../router.ts";
import { runView } from "./run-view.ts";

/** The `wait` query parameter in ms (0 when absent), cut to `max`. 400 when not a whole number. */
function waitParam(url: URL, max: number): number {
  const text = url.searchParams.get("wait");
  if (text === null || text === "") return 0;
  if (!/^\d{1,15}$/.test(text)) {
    throw new HttpProblem(
      400,
      "INVALID_QUERY",
      `wait must be a whole number of milliseconds from 0 to ${max} (got "${text.slice(0, 50)}").`,
    );
  }
  return Math.min(Number(text), max);
}

/** 200 with output or error once ended; 202 `{ runId, status }` with Retry-After otherwise. */
export async function getResult({
  request,
  url,
  params,
  options,
}: RouteContext<ResolvedOptions>): Promise<Response> {
  const wait = waitParam(url, options.maxWaitMs);
  const ended = (status: RunStatus): boolean => TERMINAL_RUN_STATUSES.has(status);
  const record = await waitForRun(
    await options.client.world(),
    params.runId ?? "",
    (run) => ended(run.status),
    {
      hint: ended,
      timeoutMs: wait,
      signal: request.signal,
      keepAlive: false,
    },
  );
  if (TERMINAL_RUN_STATUSES.has(record.status))
    return jsonResponse(200, await runView(options.client, record));
  return jsonResponse(202, { runId: record.runId, status: record.status }, { "retry-after": "1" });
}
