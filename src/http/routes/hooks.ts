/**
 * `POST /hooks/:token` `{ payload }`: delivers a JSON payload to the hook listening on `token`.
 * Webhook tokens are refused here (409): a webhook receives whole HTTP requests at its own URL.
 * An unknown or disposed token is a 404, a run that has ended a 409; nothing is written then.
 */
import { resumeHookBody } from "../bodies.ts";
import { readJsonBody } from "../body.ts";
import type { ResolvedOptions } from "../options.ts";
import { HttpProblem, jsonResponse } from "../problem.ts";
import type { RouteContext } from "../router.ts";

/** 202 `{ hookId, runId, token }` once the payload is stored for the run. */
export async function resumeHookRoute({
  request,
  params,
  options,
}: RouteContext<ResolvedOptions>): Promise<Response> {
  const token = params.token ?? "";
  const body = await readJsonBody(request, resumeHookBody, options.maxBodyBytes);
  const hook = await options.client.getHookByToken(token);
  if (hook.kind === "webhook") {
    throw new HttpProblem(
      409,
      "HOOK_IS_WEBHOOK",
      `The token belongs to a webhook, which receives HTTP requests at ${options.basePath}/webhooks/<token>; send the request there instead.`,
    );
  }
  const info = await options.client.resumeHook(token, body.payload);
  return jsonResponse(202, { hookId: info.hookId, runId: info.runId, token: info.token });
}
