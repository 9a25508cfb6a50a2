/**
 * The local World's runs: create, one or a batch (run rows, `run_created` events and start
 * messages in one transaction; idempotent on the run id), reads with keyset pagination, and leases. Leases run on the monotonic clock
 * (`lease-clock.ts`), so a wall-clock step cannot expire one; a lease held by a process on this
 * host that has certainly died counts as expired, so a new worker takes over a killed worker's
 * runs at once.
 */
import { RunIdConflictError, RunNotFoundError } from "../../errors/world.ts";
import type {
  CreatedRun,
  CreateRunInput,
  ListRunsFilter,
  Page,
  RunRecord,
  World,
} from "../../world/types.ts";
import { batchResults, pageSize, planRunBatch, runCreatedData, statusList } from "../shared.ts";
import { bool, num, type RunRow, runFromRow } from "../sql/rows.ts";
import type { LocalContext } from "./context.ts";
import { importRun } from "./import.ts";
import { insertMessage } from "./queue.ts";
import { RUN_SELECT } from "./statements.ts";

export function createRuns(ctx: LocalContext): World["runs"] {
  const { sql, db } = ctx;
  const listStatements = new Map<string, ReturnType<typeof db.prepare<Record<string, unknown>, RunRow>>>();

  const getRun = (runId: string): RunRecord => {
    const row = sql.run.get(runId);
    if (!row) throw new RunNotFoundError(runId);
    return runFromRow(row);
  };

  /** One prepared statement per combination of filters, so each can use its index. */
  const listStatement = (filter: ListRunsFilter, cursor: boolean) => {
    const where: string[] = [];
    if (filter.status !== undefined) where.push("r.status IN (SELECT value FROM json_each(@statuses))");
    // One name keeps the index order (no sort); several are read from a JSON list.
    if (typeof filter.workflowName === "string") where.push("r.workflow_name = @workflowName");
    else if (filter.workflowName !== undefined)
      where.push("r.workflow_name IN (SELECT value FROM json_each(@workflowNames))");
    if (filter.createdSince !== undefined) where.push("r.created_at >= @createdSince");
    if (filter.createdBefore !== undefined) where.push("r.created_at < @createdBefore");
    if (cursor)
      where.push("(r.created_at < @cursorAt OR (r.created_at = @cursorAt AND r.run_id < @cursorId))");
    const key = where.join(" AND ");
    let statement = listStatements.get(key);
    if (!statement) {
      statement = db.prepare<Record<string, unknown>, RunRow>(
        `${RUN_SELECT} ${where.length > 0 ? `WHERE ${key}` : ""} ORDER BY r.created_at DESC, r.run_id DESC LIMIT @limit`,
      );
      listStatements.set(key, statement);
    }
    return statement;
  };

  /** `runs.createMany`: the batch in one write transaction (see `World.runs.createMany`). */
  const createMany = async (inputs: readonly CreateRunInput[]): Promise<CreatedRun[]> => {
    ctx.enter();
    const batch = planRunBatch(inputs);
    if (batch.unique.length === 0) return [];
    const now = ctx.now();
    // One write transaction: a conflict anywhere rolls the whole batch back.
    const results = ctx.write(() =>
      batch.unique.map((input): CreatedRun => {
        const at = input.createdAt ?? now;
        const inserted = sql.insertRun.run(
          input.runId,
          input.workflowName,
          input.specVersion,
          input.seed,
          input.encrypted ? 1 : 0,
          input.input.length,
          at,
          at,
          input.bundleHash ?? null,
        );
        if (inserted.changes === 0) {
          const existing = getRun(input.runId);
          if (existing.workflowName !== input.workflowName)
            throw new RunIdConflictError(input.runId, existing.workflowName, input.workflowName);
          return { run: existing, created: false };
        }
        const data = runCreatedData(input);
        sql.insertEvent.run(input.runId, 1, "run_created", JSON.stringify(data), input.input, at);
        insertMessage(
          ctx,
          { runId: input.runId, kind: "start", dedupeKey: `start:${input.runId}`, availableAt: at },
          at,
        );
        return { run: getRun(input.runId), created: true };
      }),
    );
    const created = results.filter((result) => result.created);
    if (created.length > 0) ctx.notifier.emit({ type: "queue" });
    for (const { run } of created) ctx.notifier.emit({ type: "run", runId: run.runId });
    return batchResults(batch, results);
  };

  return {
    async create(input) {
      const [result] = await createMany([input]);
      return (result as CreatedRun).run;
    },

    createMany,

    async get(runId) {
      ctx.enter();
      return getRun(runId);
    },

    async import(input) {
      ctx.enter();
      return importRun(ctx, input);
    },

    async list(filter = {}): Promise<Page<RunRecord>> {
      ctx.enter();
      return ctx.read(() => {
        const params: Record<string, unknown> = { limit: pageSize(filter.limit) + 1 };
        if (filter.cursor !== undefined) {
          const cursorAt = sql.runCreatedAt.get(filter.cursor);
          if (cursorAt === undefined) return { items: [] };
          params.cursorAt = cursorAt;
          params.cursorId = filter.cursor;
        }
        const statuses = statusList(filter);
        if (statuses !== undefined) params.statuses = JSON.stringify(statuses);
        if (typeof filter.workflowName === "string") params.workflowName = filter.workflowName;
        else if (filter.workflowName !== undefined)
          params.workflowNames = JSON.stringify(filter.workflowName);
        if (filter.createdSince !== undefined) params.createdSince = filter.createdSince;
        if (filter.createdBefore !== undefined) params.createdBefore = filter.createdBefore;
        const rows = listStatement(filter, filter.cursor !== undefined).all(params);
        const size = pageSize(filter.limit);
        const items = rows.slice(0, size).map(runFromRow);
        const page: Page<RunRecord> = { items };
        const last = items[items.length - 1];
        if (rows.length > size && last) page.nextCursor = last.runId;
        return page;
      });
    },

    async workflowNames() {
      ctx.enter();
      return ctx.read(() => sql.workflowNames.all()).sort();
    },

    async acquire(runId, owner, leaseMs) {
      ctx.enter();
      const result = ctx.write(() => {
        const head = sql.runHead.get(runId);
        if (!head) throw new RunNotFoundError(runId);
        const held =
          head.lease_owner !== null &&
          head.lease_expires_at !== null &&
          head.lease_owner !== owner &&
          !ctx.leases.expired(num(head.lease_expires_at), head.lease_clock, head.lease_until) &&
          !ctx.isOwnerDead(head.lease_owner);
        if (held) {
          sql.setWakePending.run(1, runId);
          return { acquired: false as const, run: getRun(runId) };
        }
        const lease = ctx.leases.take(leaseMs);
        sql.setLease.run(
          owner,
          lease.expiresAt,
          lease.clock,
          lease.until,
          bool(head.wake_pending) ? 1 : 0,
          runId,
        );
        return { acquired: true as const, run: getRun(runId) };
      });
      if (!result.acquired) ctx.notifier.emit({ type: "inbox", runId });
      return result;
    },

    async renew(owner, runIds, leaseMs) {
      ctx.enter();
      return ctx.write(() => {
        const lease = ctx.leases.take(leaseMs);
        return runIds.filter(
          (runId) => sql.renewLease.run(lease.expiresAt, lease.clock, lease.until, runId, owner).changes > 0,
        );
      });
    },

    async release(runId, owner) {
      ctx.enter();
      return ctx.write(() => {
        const head = sql.runHead.get(runId);
        if (!head) throw new RunNotFoundError(runId);
        if (head.lease_owner !== owner) return true;
        if (bool(head.wake_pending)) {
          sql.setWakePending.run(0, runId);
          return false;
        }
        sql.clearLease.run(runId);
        return true;
      });
    },
  };
}
