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

/** Cursor pagination over an already sorted and filtered list: the cursor is the last item's key. */
export function pageOf<T>(sorted: T[], filter: ListRunsFilter, key: (item: T) => string): Page<T> {
  const size = pageSize(filter.limit);
  let start = 0;
  if (filter.cursor !== undefined) {
    const at = sorted.findIndex((item) => key(item) === filter.cursor);
    if (at === -1) return { items: [] };
    start = at + 1;
  }
  const items = sorted.slice(start, start + size);
  const page: Page<T> = { items };
  const last = items[items.length - 1];
  if (last !== undefined && start + size < sorted.length) page.nextCursor = key(last);
  return page;
}
