/**
 * A run's durable stream as NDJSON: one line per chunk, `{"index":n,"value":...}` for values
 * (in plain JSON, see `json-value.ts`) and `{"index":n,"base64":"..."}` for binary chunks
 * (`Uint8Array`). The response ends when the stream does; if reading fails midway, a last line
 * `{"error":{"code","message"}}` says why. Cancelling the response (the client went away)
 * cancels the durable reader, which stops tailing.
 */
import { toJsonValue } from "./json-value.ts";

const encoder = new TextEncoder();

/** The NDJSON line (with its newline) for the chunk at `index`. */
export function chunkLine(index: number, chunk: unknown): string {
  if (chunk instanceof Uint8Array) {
    return `${JSON.stringify({ index, base64: Buffer.from(chunk).toString("base64") })}\n`;
  }
  return `${JSON.stringify({ index, value: toJsonValue(chunk) })}\n`;
}

function errorLine(error: unknown): string {
  const code =
    typeof (error as { code?: unknown })?.code === "string"
      ? (error as { code: string }).code
      : "STREAM_FAILED";
  const message = `Reading the stream failed${error instanceof Error ? `: ${error.message}` : ""}. Reconnect with startIndex set to the index after the last line you received.`;
  return `${JSON.stringify({ error: { code, message } })}\n`;
}

/**
 * Encodes `source` (chunks from absolute index `startIndex`) as an NDJSON byte stream. It stops
 * reading, and cancels `source`, when the consumer cancels or `signal` aborts.
 */
export function toNdjson(
  source: ReadableStream<unknown>,
  startIndex: number,
  signal: AbortSignal,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let index = startIndex;
  const stop = (): void => {
    void reader.cancel().catch(() => undefined);
  };
  signal.addEventListener("abort", stop, { once: true });
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            signal.removeEventListener("abort", stop);
            controller.close();
            return;
          }
          controller.enqueue(encoder.encode(chunkLine(index, value)));
          index += 1;
        } catch (error) {
          signal.removeEventListener("abort", stop);
          if (signal.aborted) {
            controller.close();
            return;
          }
          controller.enqueue(encoder.encode(errorLine(error)));
          controller.close();
        }
      },
      cancel() {
        signal.removeEventListener("abort", stop);
        stop();
      },
    },
    { highWaterMark: 0 },
  );
}
