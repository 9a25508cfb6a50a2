/**
 * Finds the workflows a person means by a name, from the World (the CLI loads no workflow code to
 * inspect): a full id (`workflow//workflows/order.ts//order`) is taken as it is; anything else is
 * matched against the workflow names of the stored runs (`runs.workflowNames()`) by its end, so
 * `order` and `workflows/order.ts//order` both find that workflow, and `order` also finds an
 * `order` in another file. Then runs are listed by those full ids, paged by the World.
 */
import type { World } from "../world/types.ts";
import { shortName } from "./table.ts";

export interface ResolvedWorkflow {
  /** The full ids meant (none when nothing matched). */
  ids: string[];
  /** What to say when nothing matched: the workflows that have runs. */
  none: string;
}

/** Whether `query` (a full id, a short name, or a tail of the id) names the workflow `id`. */
export function namesWorkflow(query: string, id: string): boolean {
  if (query.startsWith("workflow//")) return id === query;
  return id === query || id.endsWith(`//${query}`);
}

/** The full workflow ids `query` names among the World's runs. */
export async function resolveWorkflow(world: World, query: string): Promise<ResolvedWorkflow> {
  if (query.startsWith("workflow//")) return { ids: [query], none: `No runs of ${query}.` };
  const names = await world.runs.workflowNames();
  const ids = names.filter((id) => namesWorkflow(query, id));
  const known = [...new Set(names.map(shortName))].sort();
  const none =
    known.length === 0
      ? `No runs of a workflow named "${query}": there are no runs at all.`
      : `No runs of a workflow named "${query}". Workflows with runs: ${known.join(", ")}.`;
  return { ids, none };
}
