/**
 * The remote World's change hints: the server's notification stream (server-sent events, one
 * `WorldNotification` per event), opened while anyone listens and closed when nobody does. A
 * stream that breaks is opened again with backoff; once it is back, listeners hear `{ type: "any" }`,
 * since hints may have been missed in the gap.
 */
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import type { WorldNotification } from "../../world/types.ts";

export interface NotificationFeed {
  /** Opens the stream if it is not open. */
  start(): void;
  /** Closes the stream (no more reconnects until `start`). */
  stop(): void;
}

/** Parses server-sent events from text chunks; calls `onEvent(type, data)` per event. */
function sseParser(onEvent: (type: string, data: string) => void): (chunk: string) => void {
  let buffer = "";
  return (chunk) => {
    buffer += chunk;
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end === -1) return;
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length > 0) onEvent(type, data.join("\n"));
    }
  };
}

/**
 * The feed of `url`: `emit` gets each hint; `onReady` hears when the stream becomes live (its
 * `ready` event: the server listens on our behalf) and when it stops being live.
 */
export function createNotificationFeed(
  url: string,
  headers: Record<string, string>,
  emit: (notification: WorldNotification) => void,
  onReady: (ready: boolean) => void = () => {},
): NotificationFeed {
  let controller: AbortController | undefined;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  // node:http rather than fetch: the stream's socket is unref'd, so an open stream never keeps a
  // process alive that has nothing else to do.
  const connect = (abort: AbortController): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const target = new URL(url);
      const get = target.protocol === "https:" ? httpsGet : httpGet;
      const request = get(
        target,
        { headers: { ...headers, accept: "text/event-stream" }, signal: abort.signal },
        (response) => {
          if (response.statusCode !== 200) {
            response.resume();
            reject(new Error(`the notification stream answered ${response.statusCode}`));
            return;
          }
          response.setEncoding("utf8");
          const parse = sseParser((type, data) => {
            if (type === "ready") {
              onReady(true);
              // Anything may have happened while the stream was down.
              if (failures > 0) emit({ type: "any" });
              failures = 0;
              return;
            }
            try {
              emit(JSON.parse(data) as WorldNotification);
            } catch {
              emit({ type: "any" });
            }
          });
          response.on("data", (chunk: string) => parse(chunk));
          response.on("end", () => resolve());
          response.on("error", reject);
        },
      );
      request.on("socket", (socket) => {
        socket.unref();
        socket.setNoDelay(true);
      });
      request.on("error", reject);
    });

  const open = (): void => {
    const abort = new AbortController();
    controller = abort;
    connect(abort)
      .catch(() => undefined)
      .finally(() => {
        if (controller !== abort) return; // a stopped feed, or one opened again since
        onReady(false);
        if (abort.signal.aborted) return;
        // The stream ended or broke: open it again, backing off while the server stays away.
        failures += 1;
        const delay = Math.min(5_000, 100 * 2 ** Math.min(failures - 1, 6));
        retryTimer = setTimeout(open, delay);
        retryTimer.unref();
      });
  };

  return {
    start() {
      if (controller !== undefined) return;
      failures = 0;
      open();
    },
    stop() {
      clearTimeout(retryTimer);
      controller?.abort();
      controller = undefined;
      onReady(false);
    },
  };
}
