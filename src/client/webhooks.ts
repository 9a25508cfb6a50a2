/**
 * `resumeWebhook`: hands an HTTP request to the workflow waiting on a webhook, and answers it the
 * way the webhook was created to: 202 Accepted (default), a static response, or (manual mode) the
 * response the workflow sends with `request.respondWith()`.
 */
import { PayloadTooLargeError } from "../errors/runtime.ts";
import { HookNotFoundError } from "../errors/world.ts";
import { webhookResponseStream } from "../runtime/builtin-steps.ts";
import { formatBytes } from "../runtime/limits.ts";
import { durableReadable } from "../runtime/streams.ts";
import { decodeValue } from "../serde/codec.ts";
import type { PayloadCodec } from "../serde/payload.ts";
import { places } from "../serde/places.ts";
import { newId } from "../util/ids.ts";
import type { RequestShape, ResponseShape } from "../workflow/web.ts";
import type { HookRecord, World } from "../world/types.ts";
import type { ClientContext } from "./context.ts";
import { deliverToHook } from "./store.ts";

/** How long a manual-mode webhook waits for the workflow's response by default. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 30_000;

async function readBody(request: Request, max: number): Promise<Uint8Array | null> {
  if (request.body === null) return null;
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw new PayloadTooLargeError(
        `The webhook request body is over ${formatBytes(max)}, the limit per payload (STEPWISE_MAX_PAYLOAD_BYTES).`,
      );
    }
    parts.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    body.set(part, at);
    at += part.length;
  }
  return body;
}

function toResponse(shape: ResponseShape): Response {
  const nullBody =
    shape.status === 204 || shape.status === 304 || (shape.status >= 100 && shape.status < 200);
  return new Response(nullBody ? null : (shape.body ?? null), {
    status: shape.status,
    statusText: shape.statusText ?? "",
    headers: shape.headers,
  });
}

function problem(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status });
}

async function manualResponse(
  context: ClientContext,
  runId: string,
  requestId: string,
  timeoutMs: number,
): Promise<Response> {
  const stream = durableReadable({
    world: context.world(),
    payloads: context.payloads(),
    runId,
    name: webhookResponseStream(requestId),
  });
  const reader = stream.getReader();
  let timer: NodeJS.Timeout | undefined;
  try {
    const first = await Promise.race([
      reader.read(),
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      }),
    ]);
    if (first === "timeout") {
      return problem(
        504,
        "WEBHOOK_TIMEOUT",
        `The workflow did not respond to this request within ${timeoutMs} ms.`,
      );
    }
    if (first.done)
      return problem(502, "WEBHOOK_NO_RESPONSE", "The run ended without responding to this request.");
    return toResponse(first.value as ResponseShape);
  } finally {
    if (timer) clearTimeout(timer);
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * The static response a webhook was created with: stored as a payload of its run (`sealed`,
 * base64, bound to the hook), or in clear by Stepwise before spec version 2 (`response`).
 */
async function staticResponse(
  world: World,
  payloads: PayloadCodec,
  hook: HookRecord,
  meta: { response?: ResponseShape; sealed?: string },
): Promise<ResponseShape | undefined> {
  if (meta.sealed === undefined) return meta.response;
  const run = await world.runs.get(hook.runId);
  const bytes = new Uint8Array(Buffer.from(meta.sealed, "base64"));
  return decodeValue(payloads.decode(run, places.webhookResponse(hook.hookId), bytes)) as ResponseShape;
}

/**
 * Delivers `request` to the workflow waiting on the webhook with `token` in `context`'s World and
 * returns the HTTP response to send (see `Client.resumeWebhook`). @internal
 */
export async function resumeWebhookIn(
  context: ClientContext,
  token: string,
  request: Request,
  options: { timeoutMs?: number } = {},
): Promise<Response> {
  const world = await context.world();
  const hook = await world.hooks.getByToken(token);
  if (hook.kind !== "webhook") throw new HookNotFoundError(token);
  const payloads = context.payloads();
  const limits = context.limits();
  const body = await readBody(request, limits.maxPayloadBytes);
  const headers: [string, string][] = [];
  request.headers.forEach((value, key) => {
    headers.push([key, value]);
  });
  const requestId = newId("whk");
  const shape: RequestShape = { id: requestId, url: request.url, method: request.method, headers, body };
  await deliverToHook(world, { payloads, limits }, hook, shape, `The webhook request for ${token}`);
  await context.used();
  const meta = hook.meta as { respond?: string; response?: ResponseShape; sealed?: string } | undefined;
  if (meta?.respond === "static") {
    const response = await staticResponse(world, payloads, hook, meta);
    if (response !== undefined) return toResponse(response);
  }
  if (meta?.respond === "manual") {
    return manualResponse(context, hook.runId, requestId, options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS);
  }
  return new Response(null, { status: 202 });
}
