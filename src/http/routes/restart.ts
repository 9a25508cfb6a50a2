/**
 * `POST /runs/:runId/restart` `{ from?: { step, occurrence? } }`: restarts a run (as
 * `run.restart()` does) from the beginning, or from the `occurrence`-th call of a step, keeping
 * what came before it. A run that has not ended is stopped first. Refused before anything is
 * written: an unknown run (404), a malformed restart point or a step the run never called (400,
 * listing the steps it called), a restart that lost to another one or whose kept hook lost its
 * token (409).
 */
import { type RestartRunBody, restartRunBody } from "../bodies.ts";
import { readBodyBytes, readJsonBody } from "../body.ts";
import type { ResolvedOptions } from "../options.ts";
import { jsonResponse } from "../problem.ts";
import type { RouteContext } from "../router.ts";

/** 202 `{ runId, generation, keptCalls, step?, occurrence? }` once the restart is recorded. */
export async function restartRunRoute({
  request,
  params,
  options,
}: RouteContext<ResolvedOptions>): Promise<Response> {
  const runId = params.runId ?? "";
  let body: RestartRunBody = {};
  // No body (or an empty one) restarts from the beginning.
  if (request.body === null || request.headers.get("content-length") === "0") {
    await readBodyBytes(request, options.maxBodyBytes);
  } else body = await readJsonBody(request, restartRunBody, options.maxBodyBytes);
  const from = body.from as { step: string; occurrence?: number } | undefined;
  const restarted = await options.client.getRun(runId).restart(from === undefined ? {} : { from });
  return jsonResponse(202, restarted);
}
