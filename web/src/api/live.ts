/**
 * Live updates from `GET /stepwise/live` (server-sent events, no polling): `useLive` opens one
 * EventSource while a page is shown and calls back on each `run` event (and, for one run, on its
 * `timeline` / `log-changed` hints), coalescing bursts so a busy store costs one re-fetch per
 * `delayMs`.
 */
import { useEffect, useRef } from "preact/hooks";
import { api } from "./client.ts";
import type { RunHint } from "./types.ts";

/** Calls `onHint` with the hints of one burst (all `run` events, or those of `runId`). */
export function useLive(runId: string | undefined, onHint: (hints: RunHint[]) => void, delayMs = 150): void {
  const callback = useRef(onHint);
  callback.current = onHint;
  useEffect(() => {
    const source = new EventSource(api.liveUrl(runId));
    let pending: RunHint[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const receive = (event: MessageEvent<string>) => {
      let hint: RunHint = { runId: runId ?? "" };
      try {
        const parsed = JSON.parse(event.data) as Partial<RunHint>;
        if (typeof parsed.runId === "string") hint = { ...hint, ...parsed } as RunHint;
      } catch {
        // A hint without a body still means "something changed".
      }
      pending.push(hint);
      timer ??= setTimeout(() => {
        timer = undefined;
        const hints = pending;
        pending = [];
        callback.current(hints);
      }, delayMs);
    };
    source.addEventListener("run", receive);
    source.addEventListener("timeline", receive);
    source.addEventListener("log-changed", receive);
    return () => {
      source.close();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [runId, delayMs]);
}
