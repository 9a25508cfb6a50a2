/**
 * `POST /runs` starts a run of a workflow (by name or full id) with JSON arguments, under a
 * generated id or the client's (idempotent); `GET /runs/:runId` describes a run. The name is
 * resolved among the workflows the deployment knows (`Client.resolveWorkflowName`: registered in
 * the serving process, registered by live workers with the server, or with stored runs), so a
 * server without a workflow's code — a Python workflow's — starts it too. Starting validates
 * everything (body, workflow, id, arguments) before the run is written, through the same
 * `startRuns` as `start()`, so a refused request leaves no trace.
 */
import type { StartedRun } from "../../client/start.ts";
import { startRunBody } from "../bodies.ts";
import { readJsonBody } from "../body.ts";
import type { ResolvedOptions } from "../options.ts";
import { jsonResponse } from "../problem.ts";
import type { RouteContext } from "../router.ts";
import { runView } from "./run-view.ts";

/**
 * `POST /runs` `{ workflow, args?, id? }` → 201 `{ runId, workflowName, status, created: true }`
 * with a Location; when `id` names an existing run of the same workflow, 200 with that run's
 * status and `created: false` (nothing is started). 400 INVALID_RUN_ID for a malformed id, 409
 * RUN_ID_CONFLICT for an id held by another workflow; 404 WORKFLOW_NOT_REGISTERED for a name no
 * known workflow has (the message lists the known ones), 409 WORKFLOW_NAME_AMBIGUOUS for a name
 * several have (the message names them).
 */
export async function startRun({ request, options }: RouteContext<ResolvedOptions>): Promise<Response> {
  const body = await readJsonBody(request, startRunBody, options.maxBodyBytes);
  const workflowId = await options.client.resolveWorkflowName(body.workflow);
  const [started] = await options.client.startRuns(workflowId, [{ args: body.args ?? [], id: body.id }]);
  const { run, created, status } = started as StartedRun;
  return jsonResponse(
    created ? 201 : 200,
    { runId: run.runId, workflowName: workflowId, status, created },
    { location: `${options.basePath}/runs/${encodeURIComponent(run.runId)}` },
  );
}

/** `GET /runs/:runId` → 200 with the run's metadata, and its output or error once it has ended. */
export async function getRunRoute({ params, options }: RouteContext<ResolvedOptions>): Promise<Response> {
  const world = await options.client.world();
  const record = await world.runs.get(params.runId ?? "");
  return jsonResponse(200, await runView(options.client, record));
}
