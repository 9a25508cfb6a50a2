/**
 * The postgres World: any number of worker processes, on any number of machines, sharing one
 * PostgreSQL database through node-postgres. Opening it checks (and by default applies) the schema
 * migrations; appends are group-committed, each group one round trip (`group-commit.ts`); the queue
 * lives in the same database (`queue.ts`); other processes' commits arrive by LISTEN/NOTIFY on a
 * connection opened with the World (`listener.ts`), this process's are delivered in-process. The
 * design notes are in docs/architecture.md ("The postgres World").
 *
 * An open World holds a connection pool; idle connections do not keep the process alive
 * (`allowExitOnIdle`), neither does the LISTEN connection. `close()` commits what is pending and
 * ends the pool (a pool passed in by the caller is left open).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { ConfigError } from "../../errors/runtime.ts";
import { ConflictError, RunNotFoundError, WorldUnavailableError } from "../../errors/world.ts";
import { newId } from "../../util/ids.ts";
import { createNotifier } from "../../world/notify.ts";
import type { World } from "../../world/types.ts";
import { bundleNotFound } from "../shared.ts";
import { type EventRow, eventFromRow } from "../sql/rows.ts";
import { planAppend } from "./append-plan.ts";
import { createAudit } from "./audit.ts";
import {
  connectionFailure,
  describeTarget,
  isSqlError,
  parseTarget,
  resolveConnectionString,
  type Target,
  targetOfPool,
} from "./connection.ts";
import { createContext } from "./context.ts";
import { createGroupCommit, type GroupCommitOptions } from "./group-commit.ts";
import { createListener } from "./listener.ts";
import { checkSchemaName, DEFAULT_SCHEMA, migrateWith, quoteIdent } from "./migrate.ts";
import { channelOf } from "./notifications.ts";
import { createPayloads } from "./payloads.ts";
import { createQueries } from "./queries.ts";
import { createQueue } from "./queue.ts";
import { createRecords } from "./records.ts";
import { createRuns } from "./runs.ts";
import { createStreams } from "./streams.ts";

export interface PostgresWorldOptions {
  /** postgres://user:password@host:5432/database. Default: STEPWISE_POSTGRES_URL. */
  connectionString?: string;
  /** Use this pool instead of making one (then `close()` leaves it open). */
  pool?: pg.Pool;
  /** The schema holding the World's tables (created if missing). Default "stepwise". */
  schema?: string;
  /**
   * Clock, for tests. Default `Date.now`. Leases run on the database's clock unless a test clock
   * is given (it then runs them too). Sleeps and delayed messages follow each process's wall
   * clock, so workers on several machines still need synchronised clocks for those to be on time.
   */
  now?: () => number;
  /** Connections in the World's own pool. Default 10. */
  poolSize?: number;
  /** Group commit (default on); an object tunes it. */
  groupCommit?: boolean | GroupCommitOptions;
  /**
   * Apply pending migrations at start (default true). With false the schema must already be
   * current (`npx stepwise migrate`), and the World needs no DDL rights.
   */
  migrate?: boolean;
  /** How long opening waits for a server that refuses connections or is starting. Default 10 s. */
  startupTimeoutMs?: number;
  /** Time to establish one connection. Default 10 s. */
  connectTimeoutMs?: number;
  /** Where connection trouble is reported. Default: console.warn. */
  warn?: (message: string, error?: unknown) => void;
}

export { WorldUnavailableError } from "../../errors/world.ts";
export { diagnosePostgres } from "./diagnose.ts";
export type { GroupCommitOptions } from "./group-commit.ts";
export { migrate } from "./migrate.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Runs `work` keeping the process alive: ending connections waits on sockets that are unref'd
 * while idle, and a script that awaits `close()` must get to the code after it.
 */
async function holdingProcess(work: () => Promise<void>): Promise<void> {
  const hold = setInterval(() => {}, 1 << 30);
  try {
    await work();
  } finally {
    clearInterval(hold);
  }
}

/** Connects, then migrates (or checks) the schema; waits for a server that is not up yet. */
async function open(
  pool: pg.Pool,
  schema: string,
  target: Target,
  options: PostgresWorldOptions,
  warn: (message: string, error?: unknown) => void,
): Promise<void> {
  const timeout = options.startupTimeoutMs ?? 10_000;
  const deadline = Date.now() + timeout;
  let delay = 100;
  let waited = false;
  for (;;) {
    try {
      const client = await pool.connect();
      // Checked out, a connection that breaks would emit "error" to nobody: the statement fails instead.
      const onError = (): void => {};
      client.on("error", onError);
      try {
        if (options.migrate === false) {
          const { from, to } = await migrateWith(client, schema, target, { checkOnly: true });
          if (from !== to) {
            throw new ConfigError(
              `The Stepwise schema "${schema}" is at version ${from}, this Stepwise needs ${to}: run \`npx stepwise migrate\` (or open the World with migrate: true).`,
            );
          }
        } else {
          await migrateWith(client, schema, target);
        }
        return;
      } finally {
        client.off("error", onError);
        client.release();
      }
    } catch (error) {
      if (isSqlError(error)) {
        const { code, message } = error as { code: string; message: string };
        throw new ConfigError(
          `Cannot open the postgres World: ${describeTarget(target)} refused to check or set up the schema "${schema}" (${code}: ${message}). The user needs CREATE rights on the database to migrate; or migrate as another user (npx stepwise migrate) and open with migrate: false.`,
          { cause: error },
        );
      }
      const failure = connectionFailure(error, target, "open the postgres World");
      if (!WorldUnavailableError.is(failure) || Date.now() + delay > deadline) throw failure;
      if (!waited) {
        waited = true;
        warn(
          `waiting up to ${Math.round(timeout / 1000)} s for ${describeTarget(target)} to accept connections`,
          failure,
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 2000);
    }
  }
}

export async function createPostgresWorld(options: PostgresWorldOptions = {}): Promise<World> {
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  const warn =
    options.warn ??
    ((message, error) =>
      console.warn(
        `[stepwise] postgres World: ${message}${error instanceof Error ? ` (${error.message})` : ""}`,
      ));
  const poolSize = Math.max(2, options.poolSize ?? 10);
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  let pool: pg.Pool;
  let target: Target;
  if (options.pool) {
    pool = options.pool;
    target = targetOfPool(pool);
  } else {
    const connectionString = resolveConnectionString(options.connectionString);
    target = parseTarget(connectionString);
    pool = new pg.Pool({
      connectionString,
      max: poolSize,
      allowExitOnIdle: true,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: connectTimeoutMs,
      keepAlive: true,
    });
    // An idle connection that breaks (a server restart) is dropped by the pool; the next call reconnects.
    pool.on("error", () => {});
  }
  const ownPool = options.pool === undefined;
  try {
    await open(pool, schema, target, options, warn);
  } catch (error) {
    if (ownPool) await holdingProcess(() => pool.end()).catch(() => {});
    throw error;
  }

  const notifier = createNotifier();
  const channel = channelOf(schema);
  const origin = randomBytes(8).toString("hex");
  let closed = false;
  let closing: Promise<void> | undefined;
  const ctx = createContext({
    pool,
    q: createQueries(quoteIdent(schema)),
    now: options.now ?? (() => Date.now()),
    testClock: options.now !== undefined,
    notifier,
    channel,
    origin,
    target,
    isClosed: () => closed,
  });
  const groupCommitOptions =
    typeof options.groupCommit === "object" ? options.groupCommit : { enabled: options.groupCommit ?? true };
  const groupCommit = createGroupCommit(ctx, groupCommitOptions, poolSize);
  const listener = createListener({
    clientConfig: {
      ...(pool.options as pg.ClientConfig),
      keepAlive: true,
      connectionTimeoutMillis: connectTimeoutMs,
    },
    channel,
    origin,
    onHints: (hints) => {
      for (const hint of hints) notifier.emit(hint);
    },
    warn,
  });
  // Listen from the start, so a subscriber misses nothing committed after the World opened.
  await listener.start();

  return {
    name: "postgres",
    runs: createRuns(ctx),
    events: {
      async append(request) {
        if (closed) throw new ConflictError("This World has been closed.");
        return groupCommit.submit(planAppend(request, ctx.now(), () => newId("msg")));
      },
      async list(runId, listOptions = {}) {
        ctx.enter();
        const limit = listOptions.limit === undefined ? null : Math.max(0, Math.floor(listOptions.limit));
        const rows = await ctx.query<EventRow>(ctx.q.events, [runId, listOptions.afterSeq ?? 0, limit]);
        if (rows.length === 0 && (await ctx.query(ctx.q.runExists, [runId])).length === 0) {
          throw new RunNotFoundError(runId);
        }
        return rows.map(eventFromRow);
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
        await ctx.query(ctx.q.putBundle, [
          bundle.hash,
          bundle.filename,
          bundle.workflowIds,
          bundle.code,
          ctx.now(),
        ]);
      },
      async get(hash) {
        ctx.enter();
        const [row] = await ctx.query<{
          hash: string;
          filename: string;
          workflow_ids: string[];
          code: Buffer;
          created_at: string | number;
        }>(ctx.q.bundle, [hash]);
        if (row === undefined) throw bundleNotFound(hash);
        return {
          hash: row.hash,
          filename: row.filename,
          workflowIds: row.workflow_ids,
          code: new Uint8Array(row.code),
          createdAt: Number(row.created_at),
        };
      },
      async hashes() {
        ctx.enter();
        const rows = await ctx.query<{ hash: string }>(ctx.q.bundleHashes, []);
        return rows.map((row) => row.hash);
      },
      async rewrite(hash, from, to) {
        ctx.enter();
        const rows = await ctx.query<{ hash: string }>(ctx.q.rewriteBundle, [hash, from, to]);
        if (rows.length === 1) return true;
        const [found] = await ctx.query<{ hash: string }>(ctx.q.bundle, [hash]);
        if (found === undefined) throw bundleNotFound(hash);
        return false;
      },
    },

    notices: {
      async record(key) {
        ctx.enter();
        return (await ctx.query(ctx.q.recordNotice, [key, ctx.now()])).length === 1;
      },
    },

    subscribe: (subscriber) => notifier.subscribe(subscriber),

    close() {
      closed = true;
      closing ??= holdingProcess(async () => {
        await groupCommit.drain();
        await listener.stop();
        if (ownPool) await pool.end();
      });
      return closing;
    },
  };
}
