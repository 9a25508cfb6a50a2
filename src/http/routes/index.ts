/**
 * The route table: every path the handler serves, its method, and whether it needs the API
 * secret. docs/http.md describes each one; keep the two in step.
 */
import type { ResolvedOptions } from "../options.ts";
import type { Route } from "../router.ts";
import { cancelRun } from "./cancel.ts";
import { pauseRunRoute, resumeRunRoute } from "./control.ts";
import { sendEventRoute } from "./events.ts";
import { health } from "./health.ts";
import { resumeHookRoute } from "./hooks.ts";
import { listHooksRoute } from "./hooks-list.ts";
import { listRuns } from "./list-runs.ts";
import { liveRoute } from "./live.ts";
import { getRunLogs } from "./logs.ts";
import { restartRunRoute } from "./restart.ts";
import { getResult } from "./result.ts";
import { getRunRoute, startRun } from "./runs.ts";
import { createSessionRoute, deleteSessionRoute } from "./session.ts";
import { readStream } from "./streams.ts";
import { listStreamsRoute } from "./streams-list.ts";
import { decryptRoute, eventsRoute, timelineRoute } from "./timeline.ts";
import { webhook } from "./webhooks.ts";
import { listWorkflowsRoute } from "./workflows.ts";

/** The routes, relative to the base path. */
export const routes: readonly Route<ResolvedOptions>[] = [
  { method: "GET", path: "health", guarded: true, handle: health },
  { method: "POST", path: "runs", guarded: true, handle: startRun },
  { method: "GET", path: "runs", guarded: true, handle: listRuns },
  { method: "GET", path: "runs/:runId", guarded: true, handle: getRunRoute },
  { method: "POST", path: "runs/:runId/cancel", guarded: true, handle: cancelRun },
  { method: "POST", path: "runs/:runId/pause", guarded: true, handle: pauseRunRoute },
  { method: "POST", path: "runs/:runId/resume", guarded: true, handle: resumeRunRoute },
  { method: "POST", path: "runs/:runId/events", guarded: true, handle: sendEventRoute },
  { method: "POST", path: "runs/:runId/restart", guarded: true, handle: restartRunRoute },
  { method: "GET", path: "runs/:runId/result", guarded: true, handle: getResult },
  { method: "GET", path: "runs/:runId/logs", guarded: true, handle: getRunLogs },
  { method: "GET", path: "runs/:runId/streams", guarded: true, handle: listStreamsRoute },
  { method: "GET", path: "runs/:runId/streams/:name", guarded: true, handle: readStream },
  { method: "GET", path: "runs/:runId/timeline", guarded: true, handle: timelineRoute },
  { method: "GET", path: "runs/:runId/events", guarded: true, handle: eventsRoute },
  { method: "POST", path: "runs/:runId/decrypt", guarded: true, handle: decryptRoute },
  { method: "GET", path: "runs/:runId/hooks", guarded: true, handle: listHooksRoute },
  { method: "GET", path: "workflows", guarded: true, handle: listWorkflowsRoute },
  { method: "GET", path: "live", guarded: true, handle: liveRoute },
  // Signing in checks the secret itself; signing out needs nothing.
  { method: "POST", path: "session", guarded: false, handle: createSessionRoute },
  { method: "DELETE", path: "session", guarded: false, handle: deleteSessionRoute },
  { method: "POST", path: "hooks/:token", guarded: true, handle: resumeHookRoute },
  { method: "*", path: "webhooks/:token", guarded: false, handle: webhook },
];
