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
import { HttpProblem, jsonResponse } from "../problem.ts";
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

function languages(url: URL): RunLanguage[] | undefined {
  const values = url.searchParams.getAll("language").flatMap((value) => value.split(","));
  if (values.length === 0) return undefined;
  for (const language of values) {
    if (!RUN_LANGUAGES.includes(language as RunLanguage))
      throw invalid(
        `language must be one or more of ${RUN_LANGUAGES.join(", ")}, comma-separated or repeated (got ${quote(language)}).`,
      );
  }
  return [...new Set(values)] as RunLanguage[];
}

/**
 * A time parameter: epoch milliseconds (digits) or an ISO 8601 date or date-time
 * (`2026-01-01`, `2026-01-01T10:00:00Z`, with an offset); 400 naming the parameter otherwise.
 */
export function timeParam(url: URL, name: string): number | undefined {
  const text = single(url, name);
  if (text === undefined) return undefined;
  let at = Number.NaN;
  if (/^\d{1,15}$/.test(text)) at = Number(text);
  else if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text)) at = Date.parse(text);
  if (!Number.isSafeInteger(at) || at < 0 || at > 8.64e15)
    throw invalid(
      `${name} must be a time: epoch milliseconds or an ISO 8601 date-time such as 2026-01-01T10:00:00Z (got ${quote(text)}).`,
    );
  return at;
}

function searchText(url: URL): string | undefined {
  const text = single(url, "q");
  if (text === undefined) return undefined;
  if (text === "" || text.length > MAX_WORKFLOW_NAME)
    throw invalid(`q must be a run id or a hook token, 1 to ${MAX_WORKFLOW_NAME} characters.`);
  return text;
}

/** The filter a query asks for (400 on anything malformed, before the World is read). */
function filterOf(url: URL): {
  filter: ListRunsFilter;
  workflowNames: string[] | undefined;
  languages: RunLanguage[] | undefined;
  q: string | undefined;
} {
  for (const name of url.searchParams.keys()) {
    if (!PARAMETERS.includes(name))
      throw invalid(`Unknown query parameter ${quote(name)}; the parameters are ${PARAMETERS.join(", ")}.`);
  }
  const filter: ListRunsFilter = { limit: limit(url) };
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
    throw invalid("cursor cannot be given with q: a search answers at most one run, on one page.");
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
