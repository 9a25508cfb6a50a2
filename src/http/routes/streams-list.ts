/**
 * `GET /runs/:runId/streams`: the names of a run's durable streams, each with how many chunks it
 * holds and whether it was closed, so that a client (the dashboard) can offer them instead of
 * asking for a name. Reading one is `GET /runs/:runId/streams/:name` (`streams.ts`).
 */
import type { ResolvedOptions } from "../options.ts";
import { jsonResponse } from "../problem.ts";
import type { RouteContext } from "../router.ts";

/** 200 `[{ name, length, closed }]`, by name; 404 for an unknown run. */
export async function listStreamsRoute({
  params,
  options,
}: RouteContext<ResolvedOptions>): Promise<Response> {
  const world = await options.client.world();
  const runId = params.runId ?? "";
  await world.runs.get(runId);
  const streams = await world.streams.list(runId);
  return jsonResponse(
    200,
    [...streams]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map(({ name, length, closed }) => ({ name, length, closed })),
  );
}
