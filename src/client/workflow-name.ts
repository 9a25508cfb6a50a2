/**
 * Which workflow a name means, for `start("ai_content_workflow", …)`, `POST /runs` and
 * `npx stepwise start <name>`: a full id (`workflow//app.workflows.report//report`,
 * `workflow//workflows/order.ts//order`) is taken as it is — the workflow may be one this process
 * has no code for (a Python workflow), whose run is then started unpinned and pinned by the worker
 * that starts it. Anything else is matched, as the id's end (`report`, `app.workflows.report//report`),
 * against the workflows the deployment knows: those registered in this process, those live workers
 * registered with the server (`World.workers`, or the server's own registry), and the workflow
 * names of the stored runs. One match is the workflow; none is a `WorkflowNotFoundError` that
 * lists the known ones; several, an `AmbiguousWorkflowNameError` naming them.
 */
import { AmbiguousWorkflowNameError, WorkflowNotFoundError } from "../errors/runtime.ts";
import { registeredWorkflowIds } from "../runtime/registry.ts";
import type { ClientContext } from "./context.ts";

/** The prefix of every full workflow id. */
const FULL_ID = "workflow//";

/** The shape of a full id: `workflow//<module or file>//<function or class name>`. */
const FULL_ID_SHAPE = /^workflow\/\/.+\/\/[^/]+$/;

/** Whether `name` is a full workflow id (see `FULL_ID_SHAPE`), which is taken as it is. */
export function isFullWorkflowId(name: string): boolean {
  return FULL_ID_SHAPE.test(name);
}

/** Whether `name` (a plain name, or a tail of an id) names the workflow `id`. */
export function nameMatches(name: string, id: string): boolean {
  return id === name || id.endsWith(`//${name}`);
}

/** The function or class name at the end of a workflow id (`…//report` → `report`). */
function shortName(id: string): string {
  return id.slice(id.lastIndexOf("//") + 2);
}

/** The workflows a deployment knows, each a full id, sorted (see the file header). */
export async function knownWorkflows(context: ClientContext): Promise<string[]> {
  const world = await context.world();
  const [live, stored] = await Promise.all([
    context.liveWorkflows?.() ?? world.workers?.workflows() ?? Promise.resolve([]),
    world.runs.workflowNames(),
  ]);
  return [...new Set([...registeredWorkflowIds(), ...live, ...stored])].sort();
}

/**
 * The full id `name` means among `known` (see the file header). Errors: `WorkflowNotFoundError`,
 * `AmbiguousWorkflowNameError`.
 */
export function pickWorkflow(name: string, known: readonly string[]): string {
  if (isFullWorkflowId(name)) return name;
  if (name.startsWith(FULL_ID)) {
    throw new WorkflowNotFoundError(
      `"${name}" is not a workflow id: a full id is workflow//<module or file>//<function or class name>, e.g. workflow//workflows/order.ts//order or workflow//app.workflows.report//report. Give one, or the plain name.`,
      known,
    );
  }
  const matches = known.filter((id) => nameMatches(name, id));
  if (matches.length === 1) return matches[0] as string;
  if (matches.length > 1) {
    throw new AmbiguousWorkflowNameError(
      `"${name}" names ${matches.length} workflows: ${matches.join(", ")}. Start it by its full id (one of those), or by a longer part of it (e.g. "${matches[0]?.slice(FULL_ID.length)}").`,
      matches,
    );
  }
  const shown =
    known.length === 0
      ? "No workflow is known: none is registered in this process, no worker has registered one with the server, and there are no runs. Start the worker that has the workflow (npx stepwise worker …, or python -m stepwise worker …) first, or start it by its full id (workflow//<module or file>//<name>)."
      : `Known workflows: ${known.map((id) => `${shortName(id)} (${id})`).join(", ")}. If it is one a worker has not registered yet, start that worker first, or start the workflow by its full id (workflow//<module or file>//<name>).`;
  throw new WorkflowNotFoundError(`No workflow named "${name}". ${shown}`, known);
}

/** The full id `name` means in the deployment of `context` (see the file header). */
export async function resolveWorkflowName(context: ClientContext, name: string): Promise<string> {
  if (isFullWorkflowId(name)) return name;
  return pickWorkflow(name, await knownWorkflows(context));
}
