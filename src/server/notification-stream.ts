/**
 * `GET …/protocol/v1/notifications`: the World's change hints as server-sent events, one JSON
 * `WorldNotification` per `data:` line. The first event (`event: ready`) says the subscription is
 * live, so a client that subscribed before writing cannot miss the hint of its own write; a
 * comment line every 15 s keeps proxies from closing an idle stream. The stream ends when the
 * client goes away or the server shuts down; a client reconnects and treats the gap as `any`.
 */
import { serverSentEvents } from "../http/sse.ts";
import type { World } from "../world/types.ts";

const HEARTBEAT_MS = 15_000;

/** Opens the stream; `open` holds a function ending each live stream (for shutdown). */
export function openNotificationStream(world: World, signal: AbortSignal, open: Set<() => void>): Response {
  return serverSentEvents({
    signal,
    open,
    heartbeatMs: HEARTBEAT_MS,
    start(channel) {
      const unsubscribe = world.subscribe((notification) =>
        channel.send(`data: ${JSON.stringify(notification)}\n\n`),
      );
      channel.send("event: ready\ndata: {}\n\n");
      return unsubscribe;
    },
  });
}
