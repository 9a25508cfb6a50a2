/**
 * The local World's audit trail: one `audit` row per entry (run ids as a JSON array), written in
 * its own transaction so it is on disk before `record` resolves, and read newest first with keyset
 * pagination on (at, audit_id), like `runs.list`.
 */
import type { AuditEntry, Page, World } from "../../world/types.ts";
import { auditEntryOf, newAuditId, pageSize } from "../shared.ts";
import { auditFromRow } from "../sql/rows.ts";
import type { LocalContext } from "./context.ts";

export function createAudit(ctx: LocalContext): World["audit"] {
  const { sql } = ctx;
  return {
    async record(input) {
      ctx.enter();
      const entry = auditEntryOf(input, newAuditId(), ctx.now());
      ctx.write(() =>
        sql.insertAudit.run(
          entry.auditId,
          entry.at,
          entry.actor.user,
          entry.actor.host,
          entry.actor.pid,
          entry.action,
          entry.resource,
          JSON.stringify(entry.runIds),
          entry.reason ?? null,
          entry.refersTo ?? null,
          entry.outcome ?? null,
          entry.detail ?? null,
        ),
      );
      return entry;
    },

    async list(filter = {}) {
      ctx.enter();
      const size = pageSize(filter.limit);
      return ctx.read((): Page<AuditEntry> => {
        let cursorAt: number | null = null;
        if (filter.cursor !== undefined) {
          const at = sql.auditAt.get(filter.cursor);
          if (at === undefined) return { items: [] };
          cursorAt = at;
        }
        const rows = sql.auditPage.all({
          runId: filter.runId ?? null,
          cursorAt,
          cursorId: filter.cursor ?? null,
          limit: size + 1,
        });
        const items = rows.slice(0, size).map(auditFromRow);
        const last = items[items.length - 1];
        return rows.length > size && last !== undefined ? { items, nextCursor: last.auditId } : { items };
      });
    },
  };
}
