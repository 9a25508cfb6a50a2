/**
 * `GET …/protocol/v1/notifications`: the World's change hints as server-sent events, one JSON
 * `WorldNotification` per `data:` line. The first event (`event: ready`) says the subscription is
 * live, so a client that subscribed before writing cannot miss the hint of its own write; a
 * comment line every 15 s keeps proxies from closing an idle stream. The stream ends when the
 * client goes away or the server shuts down; a client reconnects and treats the gap as `any`.
 */
import type { World } from "../world/types.ts";

const HEARTBEAT_MS = 15_000;

/** Opens the stream; `open` holds a function ending each live stream (for shutdown). */
export function openNotificationStream(world: World, signal: AbortSignal, open: Set<() => void>): Response {
  const encoder = new TextEncoder();
  let end: () => void = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let ended = false;
      const send = (text: string): void => {
        if (ended) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          end();
        }
      };
      const unsubscribe = world.subscribe((notification) =>
        send(`data: ${JSON.stringify(notification)}\n\n`),
      );
      const heartbeat = setInterval(() => send(": keep-alive\n\n"), HEARTBEAT_MS);
      heartbeat.unref();
      end = () => {
        if (ended) return;
        ended = true;
        unsubscribe();
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
      send("event: ready\ndata: {}\n\n");
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
    },
  });
}
