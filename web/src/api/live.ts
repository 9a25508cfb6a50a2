/**
 * Live updates from `GET /stepwise/live` (server-sent events, no polling): `useLive` opens one
 * EventSource while a page is shown and calls back on each `run` event (and, for one run, on its
 * `timeline` / `log-changed` hints), coalescing bursts so a busy store costs one re-fetch per
 * `delayMs`. A `resync` event (the World said only that something changed) counts as a hint too. The browser reconnects by itself after a dropped connection; when the server refused
 * the stream (a session that expired: 401, or a server shutting down) it is closed for good, so
 * it is opened again after a pause — first checking the session with a cheap read, which shows
 * the login form on a 401. Either way the page fetches again once reconnected: hints sent while
 * it was away are lost.
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
    let dropped = false;
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
      next.addEventListener("run", receive);
      next.addEventListener("timeline", receive);
      next.addEventListener("log-changed", receive);
      next.addEventListener("resync", receive);
      next.addEventListener("open", () => {
        if (dropped) flush(); // catch up on what changed while the stream was down
        dropped = false;
      });
      next.addEventListener("error", () => {
        dropped = true;
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
