/**
 * The postgres World's `runs.import` (see `World.runs.import`, `worlds/import-run.ts`), in one
 * transaction: the run's row and its `run_created` as `runs.create` writes them (without the start
 * message), the rest of its log as ONE call of `append_batch` holding its segments in order —
 * planned by `planAppend` and applied by `append_one`, the very code of every append, so steps,
 * hooks (the token index included) and waits are projected as they are for any run — then its
 * inbox items, streams, byte count and messages, and one notification at commit. Any refusal
 * rolls all of it back. The statements are in `queries.ts` (import).
 */
import { ConflictError } from "../../errors/world.ts";
import { newId } from "../../util/ids.ts";
import type { ImportedRun, ImportRunInput, RunRecord } from "../../world/types.ts";
import {
  checkExistingImport,
  checkImportInput,
  importCreateInput,
  importExtraBytes,
  importSegments,
} from "../import-run.ts";
import { type RunRow, runFromRow } from "../sql/rows.ts";
import { type AppendOutcome, encodeBatch, planAppend, resultOf } from "./append-plan.ts";
import type { PgContext } from "./context.ts";

type Row = RunRow & { clock_now: string };

/** Writes the run unless it is there already. */
export async function importRun(ctx: PgContext, input: ImportRunInput): Promise<ImportedRun> {
  checkImportInput(input);
  const { q } = ctx;
  const toRun = (row: Row): RunRecord => {
    const run = runFromRow(row);
    if (run.lease !== undefined) run.lease.expiresAt = ctx.onWallClock(run.lease.expiresAt, row.clock_now);
    return run;
  };
  const result = await ctx.transaction(async (query): Promise<ImportedRun> => {
    const create = importCreateInput(input);
    const inserted = await query(q.importRun, [
      create.runId,
      create.workflowName,
      create.specVersion,
      create.seed,
      create.encrypted,
      create.createdAt,
      create.input,
      JSON.stringify(input.events[0]?.data),
      create.bundleHash ?? null,
    ]);
    if (inserted.length === 0) {
      const [row] = await query<Row>(q.run, [input.runId, ctx.leaseClock()]);
      if (row === undefined)
        throw new ConflictError(`Run ${input.runId} could not be imported nor read back; try again.`);
      const existing = toRun(row);
      checkExistingImport(existing, input);
      return { run: existing, imported: false };
    }
    const plans = importSegments(input).map((segment) => planAppend(segment, ctx.now(), () => newId("msg")));
    if (plans.length > 0) {
      const { json, blob } = encodeBatch(plans);
      const rows = await query<{ outcome: AppendOutcome }>(q.appendBatch, [
        json,
        blob,
        ctx.channel,
        ctx.origin,
      ]);
      plans.forEach((plan, index) => {
        const outcome = rows[index]?.outcome;
        if (outcome === undefined) throw new Error("Internal error: append_batch returned too few outcomes.");
        // Throws the contract's error for a refused segment (the transaction then rolls back).
        resultOf(plan, outcome);
      });
    }
    for (const item of input.inbox ?? []) {
      const stored = await query(q.importInboxItem, [
        item.itemId,
        input.runId,
        item.kind,
        item.hookId ?? null,
        item.eventType ?? null,
        item.generation ?? null,
        item.payload ?? null,
        item.createdAt,
      ]);
      if (stored.length === 0)
        throw new ConflictError(`An inbox item with id ${item.itemId} already exists.`);
    }
    for (const stream of input.streams ?? []) {
      await query(q.importStream, [
        input.runId,
        stream.name,
        stream.chunks.length,
        stream.closed,
        stream.chunks[0]?.createdAt ?? ctx.now(),
        stream.chunks.map((chunk) => chunk.index),
        stream.chunks.map((chunk) => chunk.data),
        stream.chunks.map((chunk) => chunk.createdAt),
      ]);
    }
    const extra = importExtraBytes(input);
    if (extra > 0) await query(q.importBytes, [input.runId, extra]);
    const now = ctx.now();
    for (const message of input.messages ?? []) {
      await query(q.importMessage, [
        newId("msg"),
        input.runId,
        message.kind,
        message.dedupeKey ?? null,
        message.availableAt,
        now,
        input.workflowName,
      ]);
    }
    const [row] = await query<Row>(q.run, [input.runId, ctx.leaseClock()]);
    if (row === undefined)
      throw new Error(`Internal error: run ${input.runId} was imported but cannot be read.`);
    const run = toRun(row);
    const queued = (input.messages?.length ?? 0) > 0;
    await query(q.notify, [
      ctx.channel,
      ctx.notes(queued ? [["q"], ["r", run.runId, run.status]] : [["r", run.runId, run.status]]),
    ]);
    return { run, imported: true };
  });
  if (result.imported) {
    if ((input.messages?.length ?? 0) > 0) ctx.notifier.emit({ type: "queue" });
    ctx.notifier.emit({ type: "run", runId: input.runId, status: result.run.status });
  }
  return result;
}
