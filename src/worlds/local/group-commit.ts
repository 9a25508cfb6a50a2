/**
 * Group commit for appends. Appends issued in the same turn of the event loop (typically the
 * checkpoints of many concurrent runs) are queued and committed together in ONE write transaction;
 * each append runs under its own SAVEPOINT, so one append's error (a sequence conflict, a lost
 * lease, ...) rolls back only that append and rejects only its promise. `flush()` commits what is
 * queued right away; every other World method calls it first, so calls keep their order. With
 * group commit off, each append is its own transaction.
 *
 * When to flush adapts to the load. Flushing from `setImmediate` gathers the appends of every I/O
 * callback of a loop iteration (the batching that matters under load) but costs a lone append an
 * extra loop turn (~20 µs); flushing from a microtask costs nothing extra but batches only what one
 * callback issued. So the World flushes on `setImmediate` while batches form, drops to microtasks
 * after a run of single-append flushes, and probes with `setImmediate` every few flushes to notice
 * when concurrency returns.
 *
 * Every failure goes to the guard at once (synchronously), so a database found damaged stops the
 * World before anything queued behind the failed batch, or any call made in the same tick, writes.
 */
import type Database from "better-sqlite3";
import type { AppendRequest, AppendResult } from "../../world/types.ts";
import type { Guard } from "./guard.ts";

interface Pending {
  request: AppendRequest;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; result: AppendResult } | { ok: false; error: unknown };

export interface GroupCommit {
  submit(request: AppendRequest): Promise<AppendResult>;
  /** Commits everything queued, now. Never throws: failures reject the appends' promises. */
  flush(): void;
}

/** Bounds one transaction, so a burst of appends does not hold the write lock for long. */
const MAX_BATCH = 1000;
/** Single-append flushes in a row after which flushing moves to microtasks. */
const LONE_FLUSHES_FOR_LOW_LOAD = 8;
/** At low load, every this many flushes still waits for setImmediate, to see if batches form. */
const PROBE_EVERY = 16;

export function createGroupCommit(
  db: Database.Database,
  apply: (request: AppendRequest) => AppendResult,
  onCommitted: (committed: readonly { request: AppendRequest; result: AppendResult }[]) => void,
  options: { enabled: boolean; guard: Pick<Guard, "check" | "note"> },
): GroupCommit {
  const { guard } = options;
  let queue: Pending[] = [];
  let scheduled: NodeJS.Immediate | "microtask" | undefined;
  let lowLoad = false; // flush on microtasks
  let loneFlushes = 0; // consecutive flushes of a single append
  let sinceProbe = 0;
  const single = db.transaction(apply).immediate;
  const underSavepoint = db.transaction(apply); // nested in a transaction: SAVEPOINT ... RELEASE
  const batch = db.transaction((items: readonly Pending[]): Outcome[] =>
    items.map((item): Outcome => {
      try {
        return { ok: true, result: underSavepoint(item.request) };
      } catch (error) {
        // Errors like SQLITE_FULL can end the whole transaction: then nothing of the batch stands.
        if (!db.inTransaction) throw error;
        return { ok: false, error };
      }
    }),
  ).immediate;

  function commit(items: Pending[]): void {
    try {
      guard.check("an append");
    } catch (error) {
      for (const item of items) item.reject(error);
      return;
    }
    if (items.length === 1) {
      const [item] = items as [Pending];
      let result: AppendResult;
      try {
        result = single(item.request);
      } catch (error) {
        guard.note(error, "an append");
        item.reject(error);
        return;
      }
      onCommitted([{ request: item.request, result }]);
      item.resolve(result);
      return;
    }
    let outcomes: Outcome[];
    try {
      outcomes = batch(items);
    } catch (error) {
      guard.note(error, "an append");
      for (const item of items) item.reject(error);
      return;
    }
    const committed: { request: AppendRequest; result: AppendResult }[] = [];
    outcomes.forEach((outcome, index) => {
      if (outcome.ok) committed.push({ request: (items[index] as Pending).request, result: outcome.result });
    });
    onCommitted(committed);
    outcomes.forEach((outcome, index) => {
      const item = items[index] as Pending;
      if (outcome.ok) item.resolve(outcome.result);
      else item.reject(outcome.error);
    });
  }

  function flush(): void {
    if (scheduled !== undefined && scheduled !== "microtask") clearImmediate(scheduled);
    scheduled = undefined;
    if (queue.length === 0) return;
    if (queue.length > 1) {
      lowLoad = false;
      loneFlushes = 0;
    } else if (++loneFlushes >= LONE_FLUSHES_FOR_LOW_LOAD) lowLoad = true;
    while (queue.length > 0) {
      const items = queue.length <= MAX_BATCH ? queue : queue.slice(0, MAX_BATCH);
      queue = queue.length <= MAX_BATCH ? [] : queue.slice(MAX_BATCH);
      commit(items);
    }
  }

  function schedule(): void {
    if (lowLoad && ++sinceProbe % PROBE_EVERY !== 0) {
      scheduled = "microtask";
      queueMicrotask(flush);
    } else {
      scheduled = setImmediate(flush);
    }
  }

  return {
    submit(request) {
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ request, resolve, reject });
        if (!options.enabled) flush();
        else if (scheduled === undefined) schedule();
      });
    },
    flush,
  };
}
