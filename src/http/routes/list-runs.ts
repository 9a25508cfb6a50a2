/**
 * `GET /runs?status=&workflow=&language=&since=&until=&q=&limit=&cursor=`: the runs, newest first,
 * a page at a time. Filters: `status` (stored statuses, comma-separated or repeated), `workflow`
 * (a name as people type it — `order`, `<file>//order` or the full id — resolved against the
 * stored runs' workflows as `inspect runs --workflow` does, so a workflow need not be loaded in
 * this process; repeated for several), `language` (`typescript`, `python`: the workflows of that
 * language among the stored runs', `ops/run-language.ts`), `since` / `until` (creation time, ISO
 * or epoch ms, half-open), `q` (a run id, or the token of an active hook: at most that one run),
 * `limit` (1 to 1000, default 50) and `cursor` (the `nextCursor` of the previous page). Every
 * filter is handed to the World's `runs.list`, so keyset paging stays exact. A malformed query is
 * refused (400 INVALID_QUERY, naming the parameter) before the World is read; an unknown workflow
 * simply has no runs. Each run is shown without its output (read it at `/runs/:runId`).
 */
import { HookNotFoundError, RunNotFoundError } from "../../errors/world.ts";
import { RUN_LANGUAGES, type RunLanguage, workflowLanguage } from "../../ops/run-language.ts";
import { resolveWorkflow } from "../../ops/workflow-names.ts";
import { RUN_ID_RULE, runIdProblem } from "../../util/ids.ts";
import type { Page, RunRecord, World } from "../../world/types.ts";
import { type ListRunsFilter, RUN_STATUSES, type RunStatus } from "../../world/types.ts";
import type { ResolvedOptions } from "../options.ts";
import { jsonResponse } from "../problem.ts";
import { invalidQuery, limitParameter, onlyParameters, quoteValue, singleParameter } from "../query.ts";
import type { RouteContext } from "../router.ts";
import { runSummary } from "./run-view.ts";

const STATUSES: readonly RunStatus[] = RUN_STATUSES;
/** What `inspect` shows for a running run, never stored, so never a filter. */
const SHOWN_ONLY = ["sleeping", "waiting", "retrying"];
const PARAMETERS = ["status", "workflow", "language", "since", "until", "q", "limit", "cursor"];
const MAX_WORKFLOW_NAME = 1024;
/** A page's size when `limit` is not given, and the most `runs.list` returns (World contract). */
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

function statuses(url: URL): RunStatus[] | undefined {
  const values = url.searchParams.getAll("status").flatMap((value) => value.split(","));
  if (values.length === 0) return undefined;
  for (const status of values) {
    if (STATUSES.includes(status as RunStatus)) continue;
    if (SHOWN_ONLY.includes(status)) {
      throw invalidQuery(
        `A ${status} run is stored as running: filter with status=running (and read each run to see what it waits for).`,
      );
    }
    throw invalidQuery(
      `status must be one or more of ${STATUSES.join(", ")}, comma-separated (got ${quoteValue(status)}).`,
    );
  }
  return [...new Set(values)] as RunStatus[];
}

function cursor(url: URL): string | undefined {
  const text = singleParameter(url, "cursor");
  if (text === undefined) return undefined;
  if (runIdProblem(text) !== undefined)
    throw invalidQuery(
      `cursor must be the nextCursor of a previous page, a run id (got ${quoteValue(text)}). ${RUN_ID_RULE}`,
    );
  return text;
}

function workflows(url: URL): string[] | undefined {
  const values = url.searchParams.getAll("workflow");
  if (values.length === 0) return undefined;
  for (const name of values) {
    if (name === "" || name.length > MAX_WORKFLOW_NAME)
      throw invalidQuery(`workflow must be a workflow's name or id, 1 to ${MAX_WORKFLOW_NAME} characters.`);
  }
  return values;
}

function languages(url: URL): RunLanguage[] | undefined {
  const values = url.searchParams.getAll("language").flatMap((value) => value.split(","));
  if (values.length === 0) return undefined;
  for (const language of values) {
    if (!RUN_LANGUAGES.includes(language as RunLanguage))
      throw invalidQuery(
        `language must be one or more of ${RUN_LANGUAGES.join(", ")}, comma-separated or repeated (got ${quoteValue(language)}).`,
      );
  }
  return [...new Set(values)] as RunLanguage[];
}

/**
 * A time parameter: epoch milliseconds (digits) or an ISO 8601 date or date-time
 * (`2026-01-01`, `2026-01-01T10:00:00Z`, with an offset); 400 naming the parameter otherwise.
 */
export function timeParam(url: URL, name: string): number | undefined {
  const text = singleParameter(url, name);
  if (text === undefined) return undefined;
  let at = Number.NaN;
  if (/^\d{1,15}$/.test(text)) at = Number(text);
  else if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text)) at = Date.parse(text);
  if (!Number.isSafeInteger(at) || at < 0 || at > 8.64e15)
    throw invalidQuery(
      `${name} must be a time: epoch milliseconds or an ISO 8601 date-time such as 2026-01-01T10:00:00Z (got ${quoteValue(text)}).`,
    );
  return at;
}

function searchText(url: URL): string | undefined {
  const text = singleParameter(url, "q");
  if (text === undefined) return undefined;
  if (text === "" || text.length > MAX_WORKFLOW_NAME)
    throw invalidQuery(`q must be a run id or a hook token, 1 to ${MAX_WORKFLOW_NAME} characters.`);
  return text;
}

/** The filter a query asks for (400 on anything malformed, before the World is read). */
function filterOf(url: URL): {
  filter: ListRunsFilter;
  workflowNames: string[] | undefined;
  languages: RunLanguage[] | undefined;
  q: string | undefined;
} {
  onlyParameters(url, PARAMETERS);
  const filter: ListRunsFilter = { limit: limitParameter(url, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE) };
  const status = statuses(url);
  if (status !== undefined) filter.status = status;
  const after = cursor(url);
  if (after !== undefined) filter.cursor = after;
  const since = timeParam(url, "since");
  if (since !== undefined) filter.createdSince = since;
  const until = timeParam(url, "until");
  if (until !== undefined) filter.createdBefore = until;
  const q = searchText(url);
  if (q !== undefined && after !== undefined)
    throw invalidQuery("cursor cannot be given with q: a search answers at most one run, on one page.");
  return { filter, workflowNames: workflows(url), languages: languages(url), q };
}

/** The full workflow ids the `workflow` and `language` filters leave (undefined: no such filter). */
async function workflowIds(
  world: World,
  names: string[] | undefined,
  wanted: RunLanguage[] | undefined,
): Promise<string[] | undefined> {
  let ids: string[] | undefined;
  if (names !== undefined) {
    const set = new Set<string>();
    for (const name of names) for (const id of (await resolveWorkflow(world, name)).ids) set.add(id);
    ids = [...set];
  }
  if (wanted === undefined || wanted.length === RUN_LANGUAGES.length) return ids;
  const pool = ids ?? (await world.runs.workflowNames());
  return pool.filter((id) => wanted.includes(workflowLanguage(id)));
}

/** The run `q` names: the run with that id, else the run owning the active hook with that token. */
async function searchRun(world: World, q: string): Promise<RunRecord | undefined> {
  if (runIdProblem(q) === undefined) {
    try {
      return await world.runs.get(q);
    } catch (error) {
      if (!RunNotFoundError.is(error)) throw error;
    }
  }
  try {
    return await world.runs.get((await world.hooks.getByToken(q)).runId);
  } catch (error) {
    if (HookNotFoundError.is(error) || RunNotFoundError.is(error)) return undefined;
    throw error;
  }
}

/** Whether `run` passes `filter` (for the one run a search finds; the World filters lists itself). */
function passes(run: RunRecord, filter: ListRunsFilter): boolean {
  const statuses = filter.status === undefined ? undefined : ([] as RunStatus[]).concat(filter.status);
  const names = filter.workflowName === undefined ? undefined : ([] as string[]).concat(filter.workflowName);
  if (statuses !== undefined && !statuses.includes(run.status)) return false;
  if (names !== undefined && !names.includes(run.workflowName)) return false;
  if (filter.createdSince !== undefined && run.createdAt < filter.createdSince) return false;
  if (filter.createdBefore !== undefined && run.createdAt >= filter.createdBefore) return false;
  return true;
}

/**
 * 200 `{ runs: [{ runId, workflowName, status, createdAt, startedAt, completedAt, version, language }],
 * nextCursor }`.
 */
export async function listRuns({ url, options }: RouteContext<ResolvedOptions>): Promise<Response> {
  const query = filterOf(url);
  const { filter } = query;
  const world = await options.client.world();
  const ids = await workflowIds(world, query.workflowNames, query.languages);
  if (ids !== undefined) filter.workflowName = ids;
  let page: Page<RunRecord>;
  if (query.q !== undefined) {
    const found = await searchRun(world, query.q);
    page = { items: found !== undefined && passes(found, filter) ? [found] : [] };
  } else {
    page = await world.runs.list(filter);
  }
  return jsonResponse(200, { runs: page.items.map(runSummary), nextCursor: page.nextCursor ?? null });
}
