/**
 * `GET /live[?runId=]`: what changes, as server-sent events, fed by the World's change hints
 * (`World.subscribe`; over the remote World they come through its notification stream) — never
 * by polling. The stream begins with a `retry:` line and `event: ready`; then `event: run` with
 * the run's summary (as `GET /runs` lists it) whenever a run changes, read once per burst of
 * hints; `event: resync` when the World only says that something changed (`any`: a hint from
 * another process that lost its detail) — re-fetch what you show. With `?runId=`, only that run's
 * changes, and for each also `event: timeline` and `event: log-changed` (re-fetch the timeline and
 * the step logs) and `event: stream` (`{ name }`) when one of its streams grew. A comment every
 * `liveHeartbeatMs` (15 s) keeps proxies from closing an idle stream. It ends when the client goes away or the
 * handler closes (the server's graceful shutdown).
 */
import type { World, WorldNotification } from "../../world/types.ts";
import type { ResolvedOptions } from "../options.ts";
import { HttpProblem } from "../problem.ts";
import type { RouteContext } from "../router.ts";
import { serverSentEvents } from "../sse.ts";
import { runSummary } from "./run-view.ts";

/** What the `retry:` line tells a browser to wait before reconnecting (ms). */
export const LIVE_RETRY_MS = 2_000;

function runIdParam(url: URL): string | undefined {
  for (const name of url.searchParams.keys()) {
    if (name !== "runId")
      throw new HttpProblem(
        400,
        "INVALID_QUERY",
        `Unknown query parameter ${JSON.stringify(name.slice(0, 60))}; the parameter is runId.`,
      );
  }
  const values = url.searchParams.getAll("runId");
  if (values.length > 1) throw new HttpProblem(400, "INVALID_QUERY", "runId may be given once.");
  const runId = values[0];
  if (runId !== undefined && (runId === "" || runId.length > 1024))
    throw new HttpProblem(400, "INVALID_QUERY", "runId must be a run id, 1 to 1024 characters.");
  return runId;
}

/** The run a hint is about, if it names one. */
function runOf(notification: WorldNotification): string | undefined {
  return "runId" in notification ? notification.runId : undefined;
}

/** 200 `text/event-stream`; 404 for an unknown `runId`; 503 once the handler is closing. */
export async function liveRoute({ request, url, options }: RouteContext<ResolvedOptions>): Promise<Response> {
  const only = runIdParam(url);
  const world: World = await options.client.world();
  if (only !== undefined) await world.runs.get(only);
  const live = options.live;
  if (live.closed)
    throw new HttpProblem(503, "SHUTTING_DOWN", "The server is shutting down; reconnect in a moment.", {
      headers: { "retry-after": "2" },
    });
  return serverSentEvents({
    signal: request.signal,
    open: live.open,
    heartbeatMs: options.liveHeartbeatMs,
    headers: { "x-accel-buffering": "no" },
    start(channel) {
      const { event } = channel;
      // Runs with hints not yet answered; one reader at a time answers them (a burst costs one read per run).
      const pending = new Set<string>();
      let reading = false;
      let resync = false;
      const drain = async (): Promise<void> => {
        if (reading) return;
        reading = true;
        try {
          while (!channel.ended && (pending.size > 0 || resync)) {
            if (resync) {
              resync = false;
              event("resync", {});
              if (only !== undefined) pending.add(only);
            }
            const [runId] = pending;
            if (runId === undefined) continue;
            pending.delete(runId);
            try {
              event("run", runSummary(await world.runs.get(runId)));
            } catch {
              // A run that cannot be read now (gone, the World busy): the next hint tries again.
            }
          }
        } finally {
          reading = false;
        }
      };
      const unsubscribe = world.subscribe((notification) => {
        if (notification.type === "queue") return;
        if (notification.type === "any") {
          resync = true;
          void drain();
          return;
        }
        const runId = runOf(notification);
        if (runId === undefined || (only !== undefined && runId !== only)) return;
        if (only !== undefined) {
          if (notification.type === "stream") event("stream", { runId, name: notification.name });
          else {
            event("timeline", { runId });
            event("log-changed", { runId });
          }
        }
        if (notification.type === "run" || notification.type === "inbox") {
          pending.add(runId);
          void drain();
        }
      });
      channel.send(`retry: ${LIVE_RETRY_MS}\n`);
      event("ready", only === undefined ? {} : { runId: only });
      return unsubscribe;
    },
  });
}
