/**
 * The server side of a durable chat: `createAgentStreamResponse(run)` answers a chat route with
 * the run's stream as Server-Sent Events (the AI SDK's UI message stream format: one `data:` line
 * of JSON per chunk, `data: [DONE]` once the stream has closed) and the run id in the
 * `x-workflow-run-id` header, which `WorkflowChatTransport` keeps to reconnect. A route that
 * serves reconnections passes the client's `startIndex`. Only web APIs: it works in any runtime.
 */

/** The header that carries the run id to the chat transport. */
export const RUN_ID_HEADER = "x-workflow-run-id";

/** What `createAgentStreamResponse` needs of a run (a `Run` from `stepwise-workflows/api`). */
export interface StreamingRun {
  readonly runId: string;
  getReadable<Chunk = unknown>(options?: { namespace?: string; startIndex?: number }): ReadableStream<Chunk>;
}

export interface AgentStreamResponseOptions {
  /** The first chunk to send (the number of chunks the client already has). Default 0. */
  startIndex?: number;
  /** The stream's namespace, when the agent wrote to `getWritable({ namespace })`. */
  namespace?: string;
  headers?: Record<string, string>;
}

/** An SSE `Response` of the run's UI message chunks from `startIndex` (see the file header). */
export function createAgentStreamResponse(
  run: StreamingRun,
  options: AgentStreamResponseOptions = {},
): Response {
  const readable = run.getReadable<unknown>({
    ...(options.startIndex === undefined ? {} : { startIndex: options.startIndex }),
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
  });
  const encoder = new TextEncoder();
  const sse = readable.pipeThrough(
    new TransformStream<unknown, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(encoder.encode(`data: ${JSON.stringify(chunk)}\n\n`));
      },
      flush(controller) {
        controller.enqueue(encoder.encode("data: [DONE]\n\n"));
      },
    }),
  );
  return new Response(sse, {
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-vercel-ai-ui-message-stream": "v1",
      [RUN_ID_HEADER]: run.runId,
      ...options.headers,
    },
  });
}

/** Parses an `startIndex` query parameter of a reconnection request: a non-negative integer, else 0. */
export function startIndexOf(url: string | URL): number {
  const value = Number(new URL(url, "http://localhost").searchParams.get("startIndex") ?? "0");
  return Number.isInteger(value) && value >= 0 ? value : 0;
}
