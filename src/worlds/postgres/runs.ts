/**
 * The postgres World's runs: create (run row, `run_created` event and start message in one
 * statement), reads with keyset pagination, and leases. Each call is one statement, so one round
 * trip; the lease statements lock only the run's row. Leases are set and compared on the
 * database's clock (see `queries.ts`); records show their expiry on this process's wall clock.
 */
import { ConflictError, RunNotFoundError } from "../../errors/world.ts";
import { newId } from "../../util/ids.ts";
import type { ListRunsFilter, Page, RunRecord, World } from "../../world/types.ts";
import { pageSize, statusList } from "../shared.ts";
import { type RunRow, runFromRow } from "../sql/rows.ts";
import type { PgContext } from "./context.ts";

export function createRuns(ctx: PgContext): World["runs"] {
  const { q } = ctx;

  const toRun = (row: RunRow & { clock_now: string | number }): RunRecord => {
    const run = runFromRow(row);
    if (run.lease !== undefined) run.lease.expiresAt = ctx.onWallClock(run.lease.expiresAt, row.clock_now);
    ctx.rememberInput(run.runId, run.input);
    return run;
  };

  const getRun = async (runId: string): Promise<RunRecord> => {
    const [row] = await ctx.query<RunRow & { clock_now: string }>(q.run, [runId, ctx.leaseClock()]);
    if (!row) throw new RunNotFoundError(runId);
    return toRun(row);
  };

  return {
    async create(input) {
      ctx.enter();
      const now = ctx.now();
      const at = input.createdAt ?? now;
      const data = { workflowName: input.workflowName, seed: input.seed, specVersion: input.specVersion };
      const rows = await ctx.query(q.createRun, [
        input.runId,
        input.workflowName,
        input.specVersion,
        input.seed,
        at,
        JSON.stringify(data),
        input.input,
        newId("msg"),
        now,
        ctx.channel,
        ctx.notes([["q"], ["r", input.runId, "pending"]]),
        input.encrypted === true,
      ]);
      if (rows.length === 0) throw new ConflictError(`A run with id ${input.runId} already exists.`);
      const run: RunRecord = {
        runId: input.runId,
        workflowName: input.workflowName,
        status: "pending",
        seq: 1,
        specVersion: input.specVersion,
        seed: input.seed,
        encrypted: input.encrypted === true,
        payloadBytes: input.input.length,
        input: new Uint8Array(input.input),
        createdAt: at,
        updatedAt: at,
        wakePending: false,
      };
      ctx.rememberInput(run.runId, run.input);
      ctx.notifier.emit({ type: "queue" });
      ctx.notifier.emit({ type: "run", runId: run.runId, status: "pending" });
      return run;
    },

    async get(runId) {
      ctx.enter();
      return getRun(runId);
    },

    async list(filter: ListRunsFilter = {}): Promise<Page<RunRecord>> {
      ctx.enter();
      const size = pageSize(filter.limit);
      const values: unknown[] = [size + 1, ctx.leaseClock()];
      const where: string[] = [];
      if (filter.cursor !== undefined) {
        values.push(filter.cursor);
        where.push(q.afterRun(values.length));
      }
      const statuses = statusList(filter);
      if (statuses !== undefined) {
        values.push([...statuses]);
        where.push(`r.status = ANY($${values.length}::text[])`);
      }
      if (typeof filter.workflowName === "string") {
        values.push(filter.workflowName);
        where.push(`r.workflow_name = $${values.length}`);
      } else if (filter.workflowName !== undefined) {
        values.push([...filter.workflowName]);
        where.push(`r.workflow_name = ANY($${values.length}::text[])`);
      }
      const rows = await ctx.query<RunRow & { clock_now: string }>(q.listRuns(where), values);
      const items = rows.slice(0, size).map(toRun);
      const page: Page<RunRecord> = { items };
      const last = items[items.length - 1];
      if (rows.length > size && last) page.nextCursor = last.runId;
      return page;
    },

    async workflowNames() {
      ctx.enter();
      const rows = await ctx.query<{ name: string }>(q.workflowNames, []);
      return rows.map((row) => row.name).sort();
    },

    async acquire(runId, owner, leaseMs) {
      ctx.enter();
      const [row] = await ctx.query<RunRow & { clock_now: string }>(q.acquire, [
        runId,
        owner,
        ctx.leaseClock(),
        leaseMs,
        ctx.channel,
        ctx.notes([["i", runId]]),
      ]);
      if (!row) throw new RunNotFoundError(runId);
      const run = toRun(row);
      if (run.lease?.owner === owner) return { acquired: true, run };
      ctx.notifier.emit({ type: "inbox", runId });
      return { acquired: false, run };
    },

    async renew(owner, runIds, leaseMs) {
      ctx.enter();
      if (runIds.length === 0) return [];
      const rows = await ctx.query<{ run_id: string }>(q.renew, [
        leaseMs,
        [...runIds],
        owner,
        ctx.leaseClock(),
      ]);
      const held = new Set(rows.map((row) => row.run_id));
      return runIds.filter((runId) => held.has(runId));
    },

    async release(runId, owner) {
      ctx.enter();
      const [row] = await ctx.query<{ found: boolean; refused: boolean | null }>(q.release, [runId, owner]);
      if (!row?.found) throw new RunNotFoundError(runId);
      return row.refused !== true;
    },
  };
}
