/** Small helpers shared by the World implementations: run filters and cursor pagination. */
import type { ListRunsFilter, Page, RunRecord } from "../world/types.ts";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  return Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit)));
}

export function statusList(filter: ListRunsFilter): readonly string[] | undefined {
  if (filter.status === undefined) return undefined;
  return typeof filter.status === "string" ? [filter.status] : filter.status;
}

export function runMatches(run: RunRecord, filter: ListRunsFilter): boolean {
  const statuses = statusList(filter);
  if (statuses !== undefined && !statuses.includes(run.status)) return false;
  if (filter.workflowName !== undefined && run.workflowName !== filter.workflowName) return false;
  return true;
}

/**
 * Keyset pagination over a list sorted in page order and NOT yet filtered: the cursor is the key of
 * the last item of the previous page, and the next page holds the matching items that sort after it.
 * The cursor item need not match the filter any more (a run whose status changed between two pages
 * does not end the listing); a cursor naming no item gives an empty page.
 */
export function pageOf<T>(
  sorted: readonly T[],
  filter: ListRunsFilter,
  key: (item: T) => string,
  matches: (item: T) => boolean,
): Page<T> {
  const size = pageSize(filter.limit);
  let start = 0;
  if (filter.cursor !== undefined) {
    const at = sorted.findIndex((item) => key(item) === filter.cursor);
    if (at === -1) return { items: [] };
    start = at + 1;
  }
  const items: T[] = [];
  let more = false;
  for (let index = start; index < sorted.length; index++) {
    const item = sorted[index] as T;
    if (!matches(item)) continue;
    if (items.length === size) {
      more = true;
      break;
    }
    items.push(item);
  }
  const page: Page<T> = { items };
  const last = items[items.length - 1];
  if (last !== undefined && more) page.nextCursor = key(last);
  return page;
}
