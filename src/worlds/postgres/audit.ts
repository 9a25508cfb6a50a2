/**
 * The postgres World's audit trail: entries are inserted (never changed) and listed newest first,
 * keyset-paged like `runs.list`, optionally only those naming a run.
 */
import type { Page, World } from "../../world/types.ts";
import { auditEntryOf, newAuditId, pageSize } from "../shared.ts";
import { type AuditRow, auditFromRow } from "../sql/rows.ts";
import type { PgContext } from "./context.ts";

export function createAudit(ctx: PgContext): World["audit"] {
  const { q } = ctx;
  return {
    async record(input) {
      ctx.enter();
      const entry = auditEntryOf(input, newAuditId(), ctx.now());
      await ctx.query(q.recordAudit, [
        entry.auditId,
        entry.at,
        entry.actor.user,
        entry.actor.host,
        entry.actor.pid,
        entry.action,
        entry.resource,
        entry.runIds,
        entry.reason ?? null,
        entry.refersTo ?? null,
        entry.outcome ?? null,
        entry.detail ?? null,
      ]);
      return { ...entry, actor: { ...entry.actor }, runIds: [...entry.runIds] };
    },

    async list(filter = {}) {
      ctx.enter();
      const size = pageSize(filter.limit);
      const rows = await ctx.query<AuditRow>(q.auditPage, [
        size + 1,
        filter.cursor ?? null,
        filter.runId ?? null,
      ]);
      const items = rows.slice(0, size).map(auditFromRow);
      const page: Page<(typeof items)[number]> = { items };
      const last = items[items.length - 1];
      if (rows.length > size && last) page.nextCursor = last.auditId;
      return page;
    },
  };
}
