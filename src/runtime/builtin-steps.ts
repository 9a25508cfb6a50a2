/**
 * The runtime's own steps, called from workflow code through the sandbox's `stepwise` module:
 * the durable `fetch` (retried like any step: network errors, 5xx and 429 are retried, honouring
 * Retry-After), a webhook's manual response, and stream writes from workflow code. Registered when
 * the runtime loads, under ids in the reserved `step//stepwise//` namespace.
 */
import { RetryableError } from "../errors/user.ts";
import { encodeValue } from "../serde/codec.ts";
import { BUILTIN_STEPS } from "../workflow/builtin-step-names.ts";
import type { RequestShape, ResponseShape } from "../workflow/web.ts";
import { registerStep } from "./registry.ts";
import { stepContext } from "./step-context.ts";

/** The internal stream a webhook's manual response travels on. */
export function webhookResponseStream(requestId: string): string {
  return `$webhook:${requestId}`;
}

function retryAfterOf(value: string | null): number | Date | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

async function durableFetch(request: RequestShape): Promise<ResponseShape> {
  const hasBody =
    request.body !== null &&
    request.body !== undefined &&
    request.method !== "GET" &&
    request.method !== "HEAD";
  const response = await globalThis.fetch(request.url, {
    method: request.method,
    headers: request.headers,
    ...(hasBody ? { body: request.body as string | Uint8Array } : {}),
  });
  if (response.status >= 500 || response.status === 429) {
    const retryAfter = retryAfterOf(response.headers.get("retry-after"));
    await response.body?.cancel();
    throw new RetryableError(
      `${request.method} ${request.url} answered ${response.status} ${response.statusText}`,
      retryAfter === undefined ? {} : { retryAfter },
    );
  }
  const headers: [string, string][] = [];
  response.headers.forEach((value, key) => {
    headers.push([key, value]);
  });
  return {
    status: response.status,
    statusText: response.statusText,
    headers,
    body: new Uint8Array(await response.arrayBuffer()),
    url: response.url,
    redirected: response.redirected,
  };
}

async function respondToWebhook(requestId: string, response: ResponseShape): Promise<void> {
  const context = stepContext.getStore();
  if (context === undefined) throw new Error("webhook responses are written from a step");
  const { world, payloads } = context.env;
  const bytes = payloads.encode(context.runId, encodeValue(response));
  await world.streams.write(context.runId, webhookResponseStream(requestId), [bytes], { close: true });
}

registerStep(BUILTIN_STEPS.fetch, durableFetch);
registerStep(BUILTIN_STEPS.webhookRespond, respondToWebhook);
