/**
 * The postgres World's runs: create (run row, `run_created` event and start message in one
 * statement; a batch in one transaction; idempotent on the run id), reads with keyset pagination, and leases. Each call is one statement, so one round
 * trip; the lease statements lock only the run's row. Leases are set and compared on the
 * database's clock (see `queries.ts`); records show their expiry on this process's wall clock.
 */
import { ConflictError, RunIdConflictError, RunNotFoundError } from "../../errors/world.ts";
import { newId } from "../../util/ids.ts";
import type {
  CreatedRun,
  CreateRunInput,
  ListRunsFilter,
  Page,
  RunRecord,
  World,
} from "../../world/types.ts";
import { batchResults, pageSize, planRunBatch, runCreatedData, statusList } from "../shared.ts";
import { type RunRow, runFromRow } from "../sql/rows.ts";
import type { PgContext } from "./context.ts";
import { importRun } from "./import.ts";
import type { Note } from "./notifications.ts";

export function createRuns(ctx: PgContext): World["runs"] {
  const { q } = ctx;

  const toRun = (row: RunRow & { clock_now: string | number }): RunRecord => {
    const run = runFromRow(row);
    if (run.lease !== undefined) run.lease.expiresAt = ctx.onWallClock(run.lease.expiresAt, row.clock_now);
    return run;
  };

  const getRun = async (runId: string): Promise<RunRecord> => {
    const [row] = await ctx.query<RunRow & { clock_now: string }>(q.run, [runId, ctx.leaseClock()]);
    if (!row) throw new RunNotFoundError(runId);
    return toRun(row);
  };

  /** The record of a run this World has just created (nothing to read back). */
  const newRun = (input: CreateRunInput, at: number): RunRecord => {
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
    if (input.bundleHash !== undefined) run.bundleHash = input.bundleHash;
    return run;
  };

  /** The existing run an idempotent create returns; `RunIdConflictError` under another workflow. */
  const existingRun = (run: RunRecord | undefined, input: CreateRunInput): CreatedRun => {
    // A run that exists but cannot be read: only a race with something that deletes runs.
    if (run === undefined)
      throw new ConflictError(`Run ${input.runId} could not be created nor read back; try again.`);
    if (run.workflowName !== input.workflowName)
      throw new RunIdConflictError(input.runId, run.workflowName, input.workflowName);
    return { run, created: false };
  };

  /** One run: one statement (and a read when the id exists). */
  const createOne = async (input: CreateRunInput): Promise<CreatedRun> => {
    const now = ctx.now();
    const at = input.createdAt ?? now;
    const data = runCreatedData(input);
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
    if (rows.length === 0) {
      // The id exists: ON CONFLICT waited for a concurrent creator to commit, so this read sees it.
      const [row] = await ctx.query<RunRow & { clock_now: string }>(q.run, [input.runId, ctx.leaseClock()]);
      return existingRun(row === undefined ? undefined : toRun(row), input);
    }
    return { run: newRun(input, at), created: true };
  };

  /**
   * Several runs: one transaction. The insert skips ids that exist (waiting for concurrent
   * creators of the same ids to commit); the runs it skipped are then read (a new snapshot, which
   * sees those commits) and any under another workflow rolls the whole batch back.
   */
  const createBatch = async (inputs: readonly CreateRunInput[]): Promise<CreatedRun[]> => {
    const now = ctx.now();
    const at = inputs.map((input) => input.createdAt ?? now);
    const { inserted, existing } = await ctx.transaction(async (query) => {
      const rows = await query<{ run_id: string }>(q.createRuns, [
        inputs.map((input) => input.runId),
        inputs.map((input) => input.workflowName),
        inputs.map((input) => input.specVersion),
        inputs.map((input) => input.seed),
        inputs.map((input) => input.encrypted === true),
        at,
        inputs.map((input) => JSON.stringify(runCreatedData(input))),
        inputs.map((input) => input.input),
        inputs.map(() => newId("msg")),
        now,
      ]);
      const inserted = new Set(rows.map((row) => row.run_id));
      const skipped = inputs.filter((input) => !inserted.has(input.runId)).map((input) => input.runId);
      const existing = new Map<string, RunRecord>();
      if (skipped.length > 0) {
        const found = await query<RunRow & { clock_now: string }>(q.runsByIds, [skipped, ctx.leaseClock()]);
        for (const row of found) existing.set(row.run_id, toRun(row));
        for (const input of inputs)
          if (!inserted.has(input.runId)) existingRun(existing.get(input.runId), input);
      }
      if (inserted.size > 0) {
        const notes: Note[] = [["q"], ...[...inserted].map((runId): Note => ["r", runId, "pending"])];
        await query(q.notify, [ctx.channel, ctx.notes(notes)]);
      }
      return { inserted, existing };
    });
    const results = inputs.map(
      (input, index): CreatedRun =>
        inserted.has(input.runId)
          ? { run: newRun(input, at[index] as number), created: true }
          : existingRun(existing.get(input.runId), input),
    );
    const created = results.filter((result) => result.created);
    if (created.length > 0) ctx.notifier.emit({ type: "queue" });
    for (const { run } of created) ctx.notifier.emit({ type: "run", runId: run.runId, status: "pending" });
    return results;
  };

  /** `runs.createMany` (see `World.runs.createMany`). */
  const createMany = async (inputs: readonly CreateRunInput[]): Promise<CreatedRun[]> => {
    ctx.enter();
    const batch = planRunBatch(inputs);
    if (batch.unique.length === 0) return [];
    let results: CreatedRun[];
    if (batch.unique.length === 1) {
      const result = await createOne(batch.unique[0] as CreateRunInput);
      if (result.created) {
        ctx.notifier.emit({ type: "queue" });
        ctx.notifier.emit({ type: "run", runId: result.run.runId, status: "pending" });
      }
      results = [result];
    } else {
      results = await createBatch(batch.unique);
    }
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
      if (filter.createdSince !== undefined) {
        values.push(filter.createdSince);
        where.push(`r.created_at >= $${values.length}`);
      }
      if (filter.createdBefore !== undefined) {
        values.push(filter.createdBefore);
        where.push(`r.created_at < $${values.length}`);
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
