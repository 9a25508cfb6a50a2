/**
 * The runtime's own steps, called from workflow code through the sandbox's `stepwise-workflows` module:
 * the durable `fetch` (retried like any step: network errors, 5xx and 429 are retried, honouring
 * Retry-After; the request is aborted with the step's signal), a webhook's manual response, and stream writes and closes from workflow code; and
 * the host side of stream handles passed from workflow code to steps. Registered when the runtime
 * loads, under ids in the reserved `step//stepwise//` namespace.
 */
import { StepwiseError } from "../errors/base.ts";
import { RetryableError } from "../errors/user.ts";
import { deserialize, registerClass, serialize } from "../serde/classes.ts";
import { encodeValue } from "../serde/codec.ts";
import { places } from "../serde/places.ts";
import { BUILTIN_STEPS } from "../workflow/builtin-step-names.ts";
import { STREAM_CLASS_ID, streamName } from "../workflow/stream-name.ts";
import type { RequestShape, ResponseShape } from "../workflow/web.ts";
import { registerStep } from "./registry.ts";
import { stepContext } from "./step-context.ts";
import { closeStream, durableWritable, type StreamTarget, writeChunk } from "./streams.ts";

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
  // Cancelling the run (or losing it, or stopping the worker) aborts the request and its body.
  const signal = stepContext.getStore()?.signal;
  const response = await globalThis.fetch(request.url, {
    method: request.method,
    headers: request.headers,
    ...(hasBody ? { body: request.body as string | Uint8Array } : {}),
    ...(signal === undefined ? {} : { signal }),
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
  const { world, payloads, limits } = context.env;
  const name = webhookResponseStream(requestId);
  const bytes = payloads.encode(context.scope, places.streamChunk(name), encodeValue(response));
  await world.streams.write(context.runId, name, [bytes], { close: true, maxRunBytes: limits.maxRunBytes });
  context.env.stored?.(context.runId, bytes.length);
}

/** The run's stream `name`, for the step running now. */
function currentStream(name: string): StreamTarget {
  const context = stepContext.getStore();
  if (context === undefined) {
    throw new StepwiseError(
      "A stream handle from workflow code can only be used inside a step it was passed to.",
    );
  }
  const { world, payloads, limits, stored } = context.env;
  const target: StreamTarget = { world, payloads, limits, scope: context.scope, name: streamName(name) };
  if (stored !== undefined) target.stored = stored;
  return target;
}

/**
 * Stream handles from workflow code (class id `stepwise//stream`): in a step they arrive as a
 * `WritableStream` writing to the run's stream. A host stream cannot be sent the other way.
 */
// biome-ignore lint/complexity/noStaticOnlyClass: the class registry takes a class with the static pair.
class StreamHandle {
  static [serialize](): never {
    throw new StepwiseError(
      "A stream cannot be returned from a step or sent to a workflow: write to it in the step, and read it with run.getReadable().",
    );
  }

  static [deserialize](data: { name: string }): WritableStream<unknown> {
    return durableWritable(currentStream(data.name));
  }
}

registerStep(BUILTIN_STEPS.fetch, durableFetch);
registerStep(BUILTIN_STEPS.webhookRespond, respondToWebhook);
registerStep(BUILTIN_STEPS.streamWrite, async (name: string, chunk: unknown) => {
  await writeChunk(currentStream(name), chunk);
});
registerStep(BUILTIN_STEPS.streamClose, async (name: string) => {
  await closeStream(currentStream(name));
});
registerClass(STREAM_CLASS_ID, StreamHandle);
