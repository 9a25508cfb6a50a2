/**
 * `ANY /webhooks/:token`: a webhook URL. Open to the world (the unguessable token is the secret),
 * so it answers strangers with as little as possible: an unknown token, a plain hook's token and
 * a run that has ended all look the same (404), and errors never name runs. The body is limited
 * (`maxWebhookBodyBytes`, by default the per-payload limit) before `resumeWebhook()` stores it;
 * the response is whatever the webhook was created to send (202, a static response, or the
 * workflow's own in manual mode).
 */
import { PayloadTooLargeError } from "../../errors/runtime.ts";
import { NotFoundError, RunFinishedError } from "../../errors/world.ts";
import type { ResolvedOptions } from "../options.ts";
import { HttpProblem } from "../problem.ts";
import type { RouteContext } from "../router.ts";

const NO_WEBHOOK = new HttpProblem(
  404,
  "WEBHOOK_NOT_FOUND",
  "No webhook is listening at this URL: the token is wrong, or the run that created it has ended or disposed it. Check the URL you were given.",
);

function tooLarge(limit: number): HttpProblem {
  return new HttpProblem(
    413,
    PayloadTooLargeError.code,
    `The request body is over this webhook's ${limit} byte limit. Send a smaller body.`,
  );
}

/** `body` cut off (with a 413) once more than `limit` bytes have passed. */
function limited(body: ReadableStream<Uint8Array>, limit: number): ReadableStream<Uint8Array> {
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) controller.error(tooLarge(limit));
        else controller.enqueue(chunk);
      },
    }),
  );
}

/** The request with its body limited to `limit` bytes (413 at once when Content-Length says more). */
function withLimit(request: Request, limit: number): Request {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (request.body === null) return request;
  const init: RequestInit & { duplex: "half" } = { body: limited(request.body, limit), duplex: "half" };
  return new Request(request, init);
}

/** Hands the request to the waiting workflow and answers with the webhook's response. */
export async function webhook({
  request,
  params,
  options,
}: RouteContext<ResolvedOptions>): Promise<Response> {
  const limit = Math.min(
    options.maxWebhookBodyBytes ?? Number.POSITIVE_INFINITY,
    options.client.limits().maxPayloadBytes,
  );
  try {
    return await options.client.resumeWebhook(params.token ?? "", withLimit(request, limit), {
      timeoutMs: options.webhookTimeoutMs,
    });
  } catch (error) {
    if (error instanceof HttpProblem) throw error;
    if (NotFoundError.is(error) || RunFinishedError.is(error)) throw NO_WEBHOOK;
    if (PayloadTooLargeError.is(error)) throw tooLarge(limit);
    throw error;
  }
}
