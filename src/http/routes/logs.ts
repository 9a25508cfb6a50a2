/**
 * `GET /runs/:runId/logs?step=&limit=&cursor=`: the run's console output (step logs, `ops/logs.ts`),
 * a page at a time, in the order it was stored. Each entry is `{ stepId, stepName, attempt, at,
 * level, text }` (`stepId`, `stepName` and `attempt` null for the workflow body's output; `at` ISO
 * 8601); an attempt's output that is encrypted is one entry `{ stepId, stepName, attempt, at,
 * encrypted: true, lines }` — this route never decrypts. `limit` is 1 to 10000 (default 1000),
 * `cursor` the previous page's `nextCursor`, `step` a step's name, full id or step id. 404 for an
 * unknown run; 400 INVALID_QUERY for a malformed query, before the World is read.
 */
import { type LogEntry, type LogQuery, readRunLogs } from "../../ops/logs.ts";
import { PayloadView } from "../../ops/payload-view.ts";
import type { ResolvedOptions } from "../options.ts";
import { jsonResponse } from "../problem.ts";
import { invalidQuery, limitParameter, onlyParameters, quoteValue, singleParameter } from "../query.ts";
import type { RouteContext } from "../router.ts";

const PARAMETERS = ["step", "limit", "cursor"];
const MAX_PAGE_SIZE = 10_000;
const DEFAULT_PAGE_SIZE = 1000;
const MAX_STEP_NAME = 1024;

/** The query a request asks for (400 on anything malformed). */
function queryOf(url: URL): LogQuery {
  onlyParameters(url, PARAMETERS);
  const query: LogQuery = { limit: limitParameter(url, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE) };
  const cursor = singleParameter(url, "cursor");
  if (cursor !== undefined) {
    if (!/^\d{1,15}:\d{1,9}$/.test(cursor))
      throw invalidQuery(`cursor must be the nextCursor of a previous page (got ${quoteValue(cursor)}).`);
    query.cursor = cursor;
  }
  const step = singleParameter(url, "step");
  if (step !== undefined) {
    if (step === "" || step.length > MAX_STEP_NAME)
      throw invalidQuery(`step must be a step's name or id, 1 to ${MAX_STEP_NAME} characters.`);
    query.step = step;
  }
  return query;
}

/** An entry as JSON: the time in ISO 8601. */
function entryJson(entry: LogEntry): Record<string, unknown> {
  const who = { stepId: entry.stepId, stepName: entry.stepName, attempt: entry.attempt };
  const at = new Date(entry.at).toISOString();
  if (entry.encrypted) return { ...who, at, encrypted: true, lines: entry.lines ?? 0 };
  return { ...who, at, level: entry.level ?? "log", text: entry.text ?? "" };
}

/** 200 `{ logs: [...], nextCursor }` (`nextCursor` null on the last page). */
export async function getRunLogs({ params, url, options }: RouteContext<ResolvedOptions>): Promise<Response> {
  const query = queryOf(url);
  const world = await options.client.world();
  const run = await world.runs.get(params.runId ?? "");
  const view = new PayloadView(options.client.payloadCodec(), {});
  const page = await readRunLogs(world, view, run, query);
  return jsonResponse(200, { logs: page.entries.map(entryJson), nextCursor: page.nextCursor ?? null });
}
