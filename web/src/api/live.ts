/**
 * Live updates from `GET /stepwise/live` (server-sent events, no polling): `useLive` opens one
 * EventSource while a page is shown and calls back on each `run` event (and, for one run, on its
 * `timeline` / `log-changed` hints; a `resync` — the World said only that something changed —
 * counts too), coalescing bursts so a busy store costs one re-fetch per `delayMs`.
 *
 * The page also fetches again each time the server says `ready` (sent once it listens): what
 * changed between the page's first read and the subscription, or while the stream was down, sent
 * this page no hint. The browser reconnects by itself after a dropped connection; when the server
 * refused the stream (a session that expired: 401, or a server shutting down: 503) the
 * EventSource is closed for good, so it is opened again after a pause — first checking the
 * session with a cheap read, which shows the login form on a 401.
 */
import { useEffect, useRef } from "preact/hooks";
import { api } from "./client.ts";
import type { RunHint } from "./types.ts";

const REOPEN_MS = 5000;

/** Calls `onHint` with the hints of one burst (all `run` events, or those of `runId`). */
export function useLive(runId: string | undefined, onHint: (hints: RunHint[]) => void, delayMs = 150): void {
  const callback = useRef(onHint);
  callback.current = onHint;
  useEffect(() => {
    let source: EventSource | undefined;
    let pending: RunHint[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let reopen: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const flush = () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        const hints = pending;
        pending = [];
        callback.current(hints);
      }, delayMs);
    };
    const receive = (event: MessageEvent<string>) => {
      let hint: RunHint = { runId: runId ?? "" };
      try {
        const parsed = JSON.parse(event.data) as Partial<RunHint>;
        if (typeof parsed.runId === "string") hint = { ...hint, ...parsed } as RunHint;
      } catch {
        // A hint without a body still means "something changed".
      }
      pending.push(hint);
      flush();
    };
    const open = () => {
      const next = new EventSource(api.liveUrl(runId));
      source = next;
      for (const name of ["run", "timeline", "log-changed", "resync"]) next.addEventListener(name, receive);
      next.addEventListener("ready", flush);
      next.addEventListener("error", () => {
        if (next.readyState !== EventSource.CLOSED || stopped) return;
        reopen = setTimeout(() => {
          if (stopped) return;
          api.runs({ limit: 1 }).then(open, () => {
            // A 401 showed the login form (which unmounts this page); anything else: try later.
            if (!stopped) reopen = setTimeout(open, REOPEN_MS);
          });
        }, REOPEN_MS);
      });
    };
    open();
    return () => {
      stopped = true;
      source?.close();
      if (timer !== undefined) clearTimeout(timer);
      if (reopen !== undefined) clearTimeout(reopen);
    };
  }, [runId, delayMs]);
}
