/**
 * The local World: one SQLite file (`<dataDir>/stepwise.db`, WAL mode) via better-sqlite3, shared
 * safely by any number of processes on this machine. Appends are group-committed (see
 * `group-commit.ts`) and fenced inside the write transaction; notifications are in-process for this
 * process's writes and, while anyone listens, `{ type: "any" }` for other processes' commits
 * (see `watch.ts`). The schema and the design notes are in `migrations.ts`. Every method is behind
 * the guard (`guard.ts`): SQLite's failures leave as Stepwise errors that say what to do, and a
 * database found damaged stops the World.
 */
import { existsSync } from "node:fs";
import { ConflictError, RunNotFoundError } from "../../errors/world.ts";
import { createNotifier } from "../../world/notify.ts";
import type { RunStatus, World } from "../../world/types.ts";
import { bundleNotFound } from "../shared.ts";
import { eventFromRow } from "../sql/rows.ts";
import { applyAppend } from "./append.ts";
import { createAudit } from "./audit.ts";
import { startBackgroundCheck } from "./background-check.ts";
import { createContext } from "./context.ts";
import { type DataDirChoice, outsideProjectNotice, resolveDataDir } from "./data-dir.ts";
import { openDatabase, resolveSynchronous, type Synchronous } from "./database.ts";
import { createGroupCommit } from "./group-commit.ts";
import { createGuard, guardWorld } from "./guard.ts";
import { createLeaseRules, machineMonotonicClock, registerLeaseFunctions } from "./lease-clock.ts";
import { createPayloads } from "./payloads.ts";
import { createQueue } from "./queue.ts";
import { createRecords } from "./records.ts";
import { createRuns } from "./runs.ts";
import { prepareStatements } from "./statements.ts";
import { createStreams } from "./streams.ts";
import { createChangeWatcher } from "./watch.ts";

export interface LocalWorldOptions {
  /**
   * Where `stepwise.db` lives; created if missing. Default: STEPWISE_DATA_DIR, else `.stepwise` at
   * the project root (the nearest package.json or pyproject.toml upward), else in the current
   * directory (`data-dir.ts`).
   */
  dataDir?: string;
  /**
   * Clock, for tests. Defaults to `Date.now`. A test clock also runs the leases (which otherwise
   * run on the machine's monotonic clock), so that a test can make them expire.
   */
  now?: () => number;
  /**
   * SQLite durability. "normal" (default) survives the death of any process; "full" also survives
   * power loss and OS crashes, at the cost of an fsync per commit. Env: STEPWISE_SQLITE_SYNCHRONOUS.
   */
  synchronous?: Synchronous;
  /** How long a write waits for another process's write lock before failing. Default 10 s. */
  busyTimeoutMs?: number;
  /** Batch appends issued in the same tick into one transaction. Default true. */
  groupCommit?: boolean;
  /** Fallback poll for other processes' changes while subscribed. Default 1000 ms. */
  pollIntervalMs?: number;
  /**
   * Files up to this size get SQLite's full `quick_check` before opening; larger ones are checked
   * in a background process right after. Default 64 MiB (`FULL_CHECK_MAX_BYTES`).
   * @internal for tests
   */
  fullCheckMaxBytes?: number;
}

export type { Synchronous } from "./database.ts";

export function createLocalWorld(options: LocalWorldOptions = {}): World {
  const busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
  const choice = options.dataDir === undefined ? resolveDataDir() : undefined;
  // Outside any project, a new data directory lands where the process stands: say where.
  if (choice?.source === "cwd" && !existsSync(choice.dir)) {
    process.stderr.write(`${outsideProjectNotice(choice.dir)}\n`);
  }
  const { db, file, dir, checked } = openDatabase({
    dataDir: options.dataDir ?? (choice as DataDirChoice).dir,
    synchronous: resolveSynchronous(options.synchronous, process.env.STEPWISE_SQLITE_SYNCHRONOUS),
    busyTimeoutMs,
    ...(options.fullCheckMaxBytes === undefined ? {} : { fullCheckMaxBytes: options.fullCheckMaxBytes }),
  });
  const guard = createGuard(file, busyTimeoutMs);
  const backgroundCheck = checked.fullyChecked
    ? undefined
    : startBackgroundCheck({
        file,
        busyTimeoutMs,
        onDamage(error) {
          guard.stop(error);
          process.stderr.write(`[stepwise] ${error.message}\n`);
        },
      });
  const now = options.now ?? (() => Date.now());
  const leases = createLeaseRules(now, options.now === undefined ? machineMonotonicClock() : undefined);
  registerLeaseFunctions(db, leases);
  const sql = prepareStatements(db);
  const notifier = createNotifier();
  let closed = false;

  const ctx = createContext({
    db,
    sql,
    now,
    leases,
    notifier,
    isClosed: () => closed,
    flushPending: () => groupCommit.flush(),
    guard,
  });

  const groupCommit = createGroupCommit(
    db,
    (request) => applyAppend(ctx, request),
    (committed) => {
      const runs = new Map<string, RunStatus>();
      let enqueued = false;
      for (const { request, result } of committed) {
        runs.set(request.runId, result.run.status);
        if ((request.enqueue?.length ?? 0) > 0) enqueued = true;
      }
      if (enqueued) notifier.emit({ type: "queue" });
      for (const [runId, status] of runs) notifier.emit({ type: "run", runId, status });
    },
    { enabled: options.groupCommit ?? true, guard },
  );

  const watcher = createChangeWatcher({
    dir,
    file,
    dataVersion: () => sql.dataVersion.get() ?? 0,
    onChange: () => notifier.emit({ type: "any" }),
    pollMs: options.pollIntervalMs ?? 1000,
  });

  return guardWorld(guard, {
    name: "local",
    runs: createRuns(ctx),
    events: {
      append(request) {
        if (closed) return Promise.reject(new ConflictError("This World has been closed."));
        return groupCommit.submit(request);
      },
      async list(runId, listOptions = {}) {
        ctx.enter();
        return ctx.read(() => {
          const limit = listOptions.limit === undefined ? -1 : Math.max(0, Math.floor(listOptions.limit));
          const rows = sql.events.all(runId, listOptions.afterSeq ?? 0, limit);
          if (rows.length === 0 && sql.runExists.get(runId) === undefined) throw new RunNotFoundError(runId);
          return rows.map(eventFromRow);
        });
      },
    },
    ...createRecords(ctx),
    queue: createQueue(ctx),
    streams: createStreams(ctx),
    payloads: createPayloads(ctx),
    audit: createAudit(ctx),
    bundles: {
      async put(bundle) {
        ctx.enter();
        ctx.write(() =>
          sql.putBundle.run(
            bundle.hash,
            bundle.filename,
            JSON.stringify(bundle.workflowIds),
            bundle.code,
            ctx.now(),
          ),
        );
      },
      async get(hash) {
        ctx.enter();
        const row = ctx.read(() => sql.bundle.get(hash));
        if (row === undefined) throw bundleNotFound(hash);
        return {
          hash: row.hash,
          filename: row.filename,
          workflowIds: JSON.parse(row.workflow_ids) as string[],
          code: new Uint8Array(row.code),
          createdAt: row.created_at,
        };
      },
      async hashes() {
        ctx.enter();
        return ctx.read(() => sql.bundleHashes.all().map((row) => row.hash));
      },
      async rewrite(hash, from, to) {
        ctx.enter();
        return ctx.write(() => {
          if (sql.rewriteBundle.run(to, hash, from).changes === 1) return true;
          if (sql.bundle.get(hash) === undefined) throw bundleNotFound(hash);
          return false;
        });
      },
    },
    notices: {
      async record(key) {
        ctx.enter();
        return ctx.write(() => sql.recordNotice.run(key, ctx.now()).changes === 1);
      },
    },

    subscribe(listener) {
      const unsubscribe = notifier.subscribe(listener);
      if (!closed && notifier.size === 1) watcher.start();
      return () => {
        unsubscribe();
        if (notifier.size === 0) watcher.stop();
      };
    },

    async close() {
      if (closed) return;
      groupCommit.flush();
      closed = true;
      backgroundCheck?.stop();
      watcher.stop();
      db.close();
    },
  });
}
