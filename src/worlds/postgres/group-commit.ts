/**
 * Group commit for appends. An append is planned in TypeScript at once (`append-plan.ts`) and
 * queued; queued appends go to the database together, as ONE call of `append_batch` — one round
 * trip, one transaction, one WAL flush for the whole group. Batching follows the load by itself:
 * while fewer than `maxInFlight` batches are out, whatever is queued leaves on the next microtask
 * (a lone append is not delayed); when all are out, appends pile up and leave together as soon as
 * one returns. A batch holds at most `maxBatch` appends and `maxBatchBytes` of payloads, and at
 * most 48 that need a savepoint (see migration 002). Appends are sorted by run id inside a batch,
 * so concurrent batches lock runs in the same order.
 *
 * One append's failed check, or its hook-token conflict, fails only that append. An unexpected
 * database error fails the whole batch; its appends are then retried one by one, so only the one
 * that causes it fails. A connection failure fails every append of the batch (it may or may not
 * have committed; see `WorldUnavailableError`). With group commit off, each append is its own call.
 */
import { SerializationError } from "../../errors/runtime.ts";
import type { AppendResult } from "../../world/types.ts";
import { type AppendOutcome, type AppendPlan, encodeBatch, resultOf } from "./append-plan.ts";
import { isSqlError } from "./connection.ts";
import type { PgContext } from "./context.ts";

export interface GroupCommitOptions {
  /** Batch concurrent appends (default true). Off: one call per append. */
  enabled?: boolean;
  /** Appends per transaction at most (default 256). */
  maxBatch?: number;
  /** Batches in flight at once, each on its own connection (default 2). */
  maxInFlight?: number;
  /** Payload bytes per batch at most, unless one append alone is larger (default 8 MiB). */
  maxBatchBytes?: number;
}

interface Pending {
  plan: AppendPlan;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

export interface GroupCommit {
  submit(plan: AppendPlan): Promise<AppendResult>;
  /** Resolves when every submitted append has settled. */
  drain(): Promise<void>;
}

/** SQLSTATEs of text Postgres cannot store: the NUL character. */
const UNSTORABLE_TEXT = new Set(["22P05", "22021"]);

/** A database error for one append, said in the World's terms where it is the caller's data. */
function explain(error: unknown, runId: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !UNSTORABLE_TEXT.has(code)) return error;
  return new SerializationError(
    `An append to run ${runId} carries the NUL character (U+0000) in event metadata or an id, which PostgreSQL cannot store as text; nothing was written. Payload bytes may hold any value; metadata strings may not.`,
    { cause: error },
  );
}

/** Savepoints per transaction at most: past 64 subtransactions, Postgres snapshots slow down. */
const MAX_GUARDED = 48;
export function createGroupCommit(
  ctx: PgContext,
  options: GroupCommitOptions,
  poolSize: number,
): GroupCommit {
  const enabled = options.enabled ?? true;
  const maxBatch = enabled ? Math.max(1, options.maxBatch ?? 256) : 1;
  const maxInFlight = enabled ? Math.max(1, options.maxInFlight ?? 2) : poolSize;
  const maxBatchBytes = options.maxBatchBytes ?? 8 * 1024 * 1024;
  let queue: Pending[] = [];
  let inFlight = 0;
  let scheduled = false;
  let drained: (() => void)[] = [];

  function take(): Pending[] {
    let count = 0;
    let bytes = 0;
    let guarded = 0;
    for (const item of queue) {
      if (count === maxBatch) break;
      if (
        count > 0 &&
        (bytes + item.plan.bytes > maxBatchBytes || (item.plan.guard && guarded === MAX_GUARDED))
      )
        break;
      count++;
      bytes += item.plan.bytes;
      if (item.plan.guard) guarded++;
    }
    const batch = queue.slice(0, count);
    queue = queue.slice(count);
    // Stable: appends to one run keep their order.
    return batch.sort((a, b) =>
      a.plan.request.runId < b.plan.request.runId ? -1 : a.plan.request.runId > b.plan.request.runId ? 1 : 0,
    );
  }

  async function execute(batch: Pending[]): Promise<void> {
    const { json, blob } = encodeBatch(batch.map((item) => item.plan));
    let outcomes: AppendOutcome[];
    try {
      const rows = await ctx.query<{ outcome: AppendOutcome }>(ctx.q.appendBatch, [
        json,
        blob,
        ctx.channel,
        ctx.origin,
      ]);
      outcomes = rows.map((row) => row.outcome);
    } catch (error) {
      if (batch.length > 1 && isSqlError(error)) {
        for (const item of batch) await execute([item]);
        return;
      }
      for (const item of batch) item.reject(explain(error, item.plan.request.runId));
      return;
    }
    const settled: (() => void)[] = [];
    let enqueued = false;
    batch.forEach((item, index) => {
      const outcome = outcomes[index];
      try {
        if (outcome === undefined) throw new Error("Internal error: append_batch returned too few outcomes.");
        const result = resultOf(item.plan, outcome);
        if (item.plan.enqueues) enqueued = true;
        ctx.notifier.emit({ type: "run", runId: result.run.runId, status: result.run.status });
        settled.push(() => item.resolve(result));
      } catch (error) {
        settled.push(() => item.reject(error));
      }
    });
    if (enqueued) ctx.notifier.emit({ type: "queue" });
    for (const settle of settled) settle();
  }

  function pump(): void {
    scheduled = false;
    while (queue.length > 0 && inFlight < maxInFlight) {
      const batch = take();
      inFlight++;
      execute(batch)
        .catch((error: unknown) => {
          for (const item of batch) item.reject(error);
        })
        .finally(() => {
          inFlight--;
          if (queue.length > 0) schedule();
          else if (inFlight === 0) {
            const waiting = drained;
            drained = [];
            for (const resolve of waiting) resolve();
          }
        });
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(pump);
  }

  return {
    submit(plan) {
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ plan, resolve, reject });
        schedule();
      });
    },
    drain() {
      if (queue.length === 0 && inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => drained.push(resolve));
    },
  };
}
