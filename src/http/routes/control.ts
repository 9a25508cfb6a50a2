/**
 * `POST /runs/:runId/pause` (body `{ abortSteps? }`, may be left out) and `POST
 * /runs/:runId/resume` (no body): run control, as `run.pause()` and `run.resume()`. Each waits at
 * most `cancelWaitMs` for the request to be recorded: 200 `{ runId, status }` once it is (a pause:
 * `pausing` while the run's steps in flight finish, or `paused`; a resume: the run's status after
 * it), 202 `{ runId, status, requested: "pause" | "resume" }` when a worker that holds the run has
 * not answered yet. Refused with nothing written: an unknown run (404), a run that has ended (409
 * RUN_FINISHED), a resume of a run that is not paused (409 RUN_NOT_PAUSED), a malformed body (400).
 */
import { randomUUID } from "node:crypto";
import { pauseRunBody } from "../bodies.ts";
import { readBodyBytes, readOptionalJsonBody } from "../body.ts";
import type { ResolvedOptions } from "../options.ts";
import { jsonResponse } from "../problem.ts";
import type { RouteContext } from "../router.ts";

/**
 * Runs `work` for at most `ms`: true when it settled in time (rethrowing its error), false when it
 * goes on. A failure after that has nobody to tell but `onError`.
 */
async function answeredWithin(
  work: Promise<void>,
  context: RouteContext<ResolvedOptions>,
  ms: number,
): Promise<boolean> {
  let late = false;
  work.catch((error: unknown) => {
    if (late) context.options.onError(error, { errorId: randomUUID(), request: context.request });
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
  } finally {
    clearTimeout(timer);
    late = true;
  }
}

/** 200 `{ runId, status }` once the pause is recorded, or 202 while a worker has not answered. */
export async function pauseRunRoute(context: RouteContext<ResolvedOptions>): Promise<Response> {
  const { request, params, options } = context;
  const runId = params.runId ?? "";
  const body = await readOptionalJsonBody(request, pauseRunBody, options.maxBodyBytes, {});
  const done = await answeredWithin(
    options.client.getRun(runId).pause(body.abortSteps ? { abortSteps: true } : {}),
    context,
    options.cancelWaitMs,
  );
  const { status } = await (await options.client.world()).runs.get(runId);
  return done
    ? jsonResponse(200, { runId, status })
    : jsonResponse(202, { runId, status, requested: "pause" });
}

/** 200 `{ runId, status }` once the resume is recorded, or 202 while a worker has not answered. */
export async function resumeRunRoute(context: RouteContext<ResolvedOptions>): Promise<Response> {
  const { request, params, options } = context;
  const runId = params.runId ?? "";
  // The body means nothing here; read it (within the limit) so the connection can be reused.
  await readBodyBytes(request, options.maxBodyBytes);
  const done = await answeredWithin(options.client.getRun(runId).resume(), context, options.cancelWaitMs);
  const { status } = await (await options.client.world()).runs.get(runId);
  return done
    ? jsonResponse(200, { runId, status })
    : jsonResponse(202, { runId, status, requested: "resume" });
}
