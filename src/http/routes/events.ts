/**
 * `POST /runs/:runId/events` `{ type, payload }`: sends an event to a run (as `sendEvent(runId,
 * type, payload)` does), where `waitForEvent(type)` receives it — now, or when the workflow gets
 * there. Refused before anything is written: an unknown run (404), a run that has ended (409), a
 * type that is not 1 to 100 of `[A-Za-z0-9_.:-]` or a payload that fails its type's schema (400),
 * a body or payload over the limits (413).
 */
import { sendEventBody } from "../bodies.ts";
import { readJsonBody } from "../body.ts";
import type { ResolvedOptions } from "../options.ts";
import { jsonResponse } from "../problem.ts";
import type { RouteContext } from "../router.ts";

/** 202 `{ runId, eventId, type, sentAt }` once the event is stored for the run. */
export async function sendEventRoute({
  request,
  params,
  options,
}: RouteContext<ResolvedOptions>): Promise<Response> {
  const runId = params.runId ?? "";
  const body = await readJsonBody(request, sendEventBody, options.maxBodyBytes);
  const sent = await options.client.sendEvent(runId, body.type, body.payload);
  return jsonResponse(202, {
    runId: sent.runId,
    eventId: sent.eventId,
    type: sent.type,
    sentAt: sent.sentAt.toISOString(),
  });
}
