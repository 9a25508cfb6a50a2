// Driver process for Stepwise: `node bench/engines/stepwise.mjs local|postgres`. The local World
// lives in a fresh temporary directory; the postgres World uses BENCH_PG_URL (a fresh database made
// by the orchestrator, synchronous_commit on). Default worker options, in-process worker.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { configure, getHookByToken, resumeHook, shutdown, start } from "../../dist/api/index.js";
import { createLocalWorld } from "../../dist/worlds/local/index.js";
import { createPostgresWorld } from "../../dist/worlds/postgres/index.js";
import { serveDriver } from "../lib/ipc.mjs";
import { traceSql } from "../lib/sql-trace.mjs";
import { workflows } from "../lib/stepwise.mjs";
import { inProcessScenarios, warmUp } from "../scenarios/in-process.mjs";

const kind = process.argv[2] ?? "local";

serveDriver(async () => {
  let dir;
  let world;
  if (kind === "local") {
    dir = mkdtempSync(join(tmpdir(), "stepwise-bench-"));
    world = createLocalWorld({ dataDir: dir });
  } else {
    if (process.env.BENCH_TRACK_FUNCTIONS === "1") await trackFunctions(process.env.BENCH_PG_URL);
    world = await createPostgresWorld({ connectionString: process.env.BENCH_PG_URL });
  }
  configure({ world });
  const adapter = {
    async start(workflow, args) {
      return (await start(workflows[workflow], args)).runId;
    },
    async status(runId) {
      const { status } = await world.runs.get(runId);
      if (status === "completed") return "done";
      if (status === "failed" || status === "cancelled") return "failed";
      return "running";
    },
    async hookReady(token) {
      try {
        await getHookByToken(token);
        return true;
      } catch {
        return false;
      }
    },
    async resume(token, payload) {
      await resumeHook(token, payload);
    },
  };
  const scenarios = inProcessScenarios(adapter);
  return {
    info: { engine: "stepwise", world: kind },
    scenarios: {
      ...scenarios,
      warmUp: (p) => warmUp(scenarios, p),
      /** The SQL one n-step run issues, per step (bench/lib/sql-trace.mjs). */
      async sqlTrace({ n }) {
        const trace = traceSql();
        let result;
        try {
          result = await scenarios.sequential({ n });
        } finally {
          result = { result, statements: trace.stop(n) };
        }
        return result;
      },
      /**
       * Where one n-step run's server time goes (postgres World, driver started with
       * BENCH_TRACK_FUNCTIONS=1): the time spent inside the append functions (self time of
       * append_batch and append_one, from pg_stat_user_functions) and the WAL bytes written, per step.
       */
      async serverTime({ n }) {
        const admin = new pg.Client({ connectionString: process.env.BENCH_PG_URL });
        await admin.connect();
        try {
          await admin.query("SELECT pg_stat_reset()");
          const lsn = async () => (await admin.query("SELECT pg_current_wal_insert_lsn() AS l")).rows[0].l;
          const from = await lsn();
          await scenarios.sequential({ n });
          const wal = (await admin.query("SELECT pg_wal_lsn_diff($1, $2) AS d", [await lsn(), from])).rows[0]
            .d;
          // Backends report function statistics once idle for a while (at most every second).
          await new Promise((resolve) => setTimeout(resolve, 2_000));
          const { rows } = await admin.query(
            "SELECT funcname, calls, total_time FROM pg_stat_user_functions WHERE funcname LIKE 'append_%'",
          );
          const batch = rows.find((r) => r.funcname === "append_batch");
          return {
            // Per call (one append per step): a backend may not have reported its last calls yet.
            functionUsPerStep: batch ? (Number(batch.total_time) * 1000) / Number(batch.calls) : undefined,
            callsReported: batch ? Number(batch.calls) : 0,
            walBytesPerStep: Number(wal) / n,
          };
        } finally {
          await admin.end();
        }
      },
      /** SQLite WAL frames (pages) written per step by one n-step run (local World only). */
      async walFrames({ n }) {
        const probe = new Database(join(dir, "stepwise.db"));
        try {
          probe.pragma("wal_checkpoint(TRUNCATE)");
          await scenarios.sequential({ n });
          const [{ log }] = probe.pragma("wal_checkpoint(PASSIVE)");
          return { framesPerStep: log / n };
        } finally {
          probe.close();
        }
      },
    },
    async close() {
      await shutdown();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
});

/** Has the database's sessions time PL/pgSQL functions (pg_stat_user_functions). */
async function trackFunctions(url) {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { rows } = await admin.query("SELECT current_database() AS db");
    await admin.query(`ALTER DATABASE "${rows[0].db}" SET track_functions = 'pl'`);
  } finally {
    await admin.end();
  }
}
