/**
 * A server-sent events response, for the streams that stay open (`GET /live` of the run API and
 * the worker protocol's notifications): text frames enqueued as they come, a comment line every
 * `heartbeatMs` so that proxies keep an idle stream open, and one way to end it — the client
 * going away (`signal`), the reader cancelling, or the server shutting down (every open stream's
 * `end` is in `open`, which a graceful close calls). Ending is idempotent and releases what the
 * stream's `start` set up (its World subscription).
 */

/** What a stream's code writes with. */
export interface SseChannel {
  /** Writes raw text (whole frames); nothing once the stream ended. */
  send(text: string): void;
  /** Writes `event: <name>` with `data` as JSON. */
  event(name: string, data: unknown): void;
  /** True once the stream ended. */
  readonly ended: boolean;
}

export interface SseOptions {
  /** The request's signal: the stream ends when the client goes away. */
  signal: AbortSignal;
  /** Holds each open stream's `end`, for shutdown. */
  open: Set<() => void>;
  heartbeatMs: number;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Sets the stream up (subscribes, sends its first frames); returns what releases it. */
  start(channel: SseChannel): () => void;
}

/** 200 `text/event-stream`, live until it ends (see the module comment). */
export function serverSentEvents(options: SseOptions): Response {
  const { signal, open } = options;
  const encoder = new TextEncoder();
  let end: () => void = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let ended = false;
      const channel: SseChannel = {
        send(text) {
          if (ended) return;
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            end();
          }
        },
        event(name, data) {
          channel.send(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
        },
        get ended() {
          return ended;
        },
      };
      let release: () => void = () => {};
      const heartbeat = setInterval(() => channel.send(": keep-alive\n\n"), options.heartbeatMs);
      heartbeat.unref();
      end = () => {
        if (ended) return;
        ended = true;
        release();
        clearInterval(heartbeat);
        signal.removeEventListener("abort", end);
        open.delete(end);
        try {
          controller.close();
        } catch {
          // already closed by the reader
        }
      };
      open.add(end);
      signal.addEventListener("abort", end, { once: true });
      release = options.start(channel);
      if (ended) release(); // it ended while starting: release what it set up just now
    },
    cancel() {
      end();
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...options.headers,
    },
  });
}
