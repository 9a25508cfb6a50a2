/**
 * `GET /runs?status=&workflow=&limit=&cursor=`: the runs, newest first, a page at a time. Filters:
 * `status` (stored statuses, comma-separated or repeated), `workflow` (a name as people type it —
 * `order`, `<file>//order` or the full id — resolved against the stored runs' workflows as
 * `inspect runs --workflow` does, so a workflow need not be loaded in this process; repeated for
 * several), `limit` (1 to 1000, default 50) and `cursor` (the `nextCursor` of the previous page).
 * A malformed query is refused (400 INVALID_QUERY) before the World is read; an unknown workflow
 * simply has no runs. Each run is shown without its output (read it at `/runs/:runId`).
 */
import { resolveWorkflow } from "../../ops/workflow-names.ts";
import { RUN_ID_RULE, runIdProblem } from "../../util/ids.ts";
import { type ListRunsFilter, RUN_STATUSES, type RunStatus } from "../../world/types.ts";
import type { ResolvedOptions } from "../options.ts";
import { HttpProblem, jsonResponse } from "../problem.ts";
import type { RouteContext } from "../router.ts";
import { runSummary } from "./run-view.ts";

const STATUSES: readonly RunStatus[] = RUN_STATUSES;
/** What `inspect` shows for a running run, never stored, so never a filter. */
const SHOWN_ONLY = ["sleeping", "waiting", "retrying"];
const PARAMETERS = ["status", "workflow", "limit", "cursor"];
const MAX_WORKFLOW_NAME = 1024;
/** A page's size when `limit` is not given, and the most `runs.list` returns (World contract). */
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

function invalid(message: string): HttpProblem {
  return new HttpProblem(400, "INVALID_QUERY", message);
}

const quote = (text: string): string => JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);

/** The one value of a parameter that may be given once (400 when repeated). */
function single(url: URL, name: string): string | undefined {
  const values = url.searchParams.getAll(name);
  if (values.length > 1) throw invalid(`${name} may be given once; it was given ${values.length} times.`);
  return values[0];
}

function statuses(url: URL): RunStatus[] | undefined {
  const values = url.searchParams.getAll("status").flatMap((value) => value.split(","));
  if (values.length === 0) return undefined;
  for (const status of values) {
    if (STATUSES.includes(status as RunStatus)) continue;
    if (SHOWN_ONLY.includes(status)) {
      throw invalid(
        `A ${status} run is stored as running: filter with status=running (and read each run to see what it waits for).`,
      );
    }
    throw invalid(
      `status must be one or more of ${STATUSES.join(", ")}, comma-separated (got ${quote(status)}).`,
    );
  }
  return [...new Set(values)] as RunStatus[];
}

function limit(url: URL): number {
  const text = single(url, "limit");
  if (text === undefined) return DEFAULT_PAGE_SIZE;
  const value = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 1 && value <= MAX_PAGE_SIZE))
    throw invalid(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE} (got ${quote(text)}).`);
  return value;
}

function cursor(url: URL): string | undefined {
  const text = single(url, "cursor");
  if (text === undefined) return undefined;
  if (runIdProblem(text) !== undefined)
    throw invalid(
      `cursor must be the nextCursor of a previous page, a run id (got ${quote(text)}). ${RUN_ID_RULE}`,
    );
  return text;
}

function workflows(url: URL): string[] | undefined {
  const values = url.searchParams.getAll("workflow");
  if (values.length === 0) return undefined;
  for (const name of values) {
    if (name === "" || name.length > MAX_WORKFLOW_NAME)
      throw invalid(`workflow must be a workflow's name or id, 1 to ${MAX_WORKFLOW_NAME} characters.`);
  }
  return values;
}

/** The filter a query asks for (400 on anything malformed, before the World is read). */
function filterOf(url: URL): { filter: ListRunsFilter; workflowNames: string[] | undefined } {
  for (const name of url.searchParams.keys()) {
    if (!PARAMETERS.includes(name))
      throw invalid(`Unknown query parameter ${quote(name)}; the parameters are ${PARAMETERS.join(", ")}.`);
  }
  const filter: ListRunsFilter = { limit: limit(url) };
  const status = statuses(url);
  if (status !== undefined) filter.status = status;
  const after = cursor(url);
  if (after !== undefined) filter.cursor = after;
  return { filter, workflowNames: workflows(url) };
}

/** 200 `{ runs: [{ runId, workflowName, status, createdAt, startedAt, completedAt }], nextCursor }`. */
export async function listRuns({ url, options }: RouteContext<ResolvedOptions>): Promise<Response> {
  const { filter, workflowNames } = filterOf(url);
  const world = await options.client.world();
  if (workflowNames !== undefined) {
    const ids = new Set<string>();
    for (const name of workflowNames) for (const id of (await resolveWorkflow(world, name)).ids) ids.add(id);
    filter.workflowName = [...ids];
  }
  const page = await world.runs.list(filter);
  return jsonResponse(200, { runs: page.items.map(runSummary), nextCursor: page.nextCursor ?? null });
}
