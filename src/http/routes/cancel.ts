/**
 * `POST /runs/:runId/cancel`: asks a run to stop. The worker driving the run ends it as soon as it
 * sees the request; the route waits at most `cancelWaitMs` for that: 200 when the run has ended
 * cancelled, 202 when the request is recorded and the run is still stopping.
 * A run that already completed or failed cannot be cancelled (409); a cancelled one answers 200.
 */
import { randomUUID } from "node:crypto";
import { RunFinishedError } from "../../errors/world.ts";
import { TERMINAL_RUN_STATUSES } from "../../world/types.ts";
import { readBodyBytes } from "../body.ts";
import type { ResolvedOptions } from "../options.ts";
import { HttpProblem, jsonResponse } from "../problem.ts";
import type { RouteContext } from "../router.ts";

/** Resolves when `work` settles or `ms` pass, whichever is first; rejects if `work` rejects first. */
async function within(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function alreadyEnded(runId: string, status: string): HttpProblem {
  return new HttpProblem(
    409,
    RunFinishedError.code,
    `Run ${runId} has already ended (status: ${status}); there is nothing to cancel.`,
  );
}

/** 200 `{ runId, status: "cancelled" }`, 202 `{ runId, status, cancelRequested: true }`, or 409. */
export async function cancelRun({
  request,
  params,
  options,
}: RouteContext<ResolvedOptions>): Promise<Response> {
  const runId = params.runId ?? "";
  // The body means nothing here; read it (within the limit) so the connection can be reused.
  await readBodyBytes(request, options.maxBodyBytes);
  const world = await options.client.world();
  const before = await world.runs.get(runId);
  if (before.status === "cancelled") return jsonResponse(200, { runId, status: "cancelled" });
  if (TERMINAL_RUN_STATUSES.has(before.status)) throw alreadyEnded(runId, before.status);
  let answered = false;
  const cancelling = options.client.getRun(runId).cancel();
  // After a 202 the cancellation goes on; a later failure has nobody to tell but the log.
  cancelling.catch((error: unknown) => {
    if (answered) options.onError(error, { errorId: randomUUID(), request });
  });
  try {
    await within(cancelling, options.cancelWaitMs);
  } finally {
    answered = true;
  }
  const after = await world.runs.get(runId);
  if (after.status === "cancelled") return jsonResponse(200, { runId, status: "cancelled" });
  if (TERMINAL_RUN_STATUSES.has(after.status)) throw alreadyEnded(runId, after.status);
  return jsonResponse(202, { runId, status: after.status, cancelRequested: true });
}
