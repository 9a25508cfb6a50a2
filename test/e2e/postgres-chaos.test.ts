/**
 * Faults under load on PostgreSQL, in real processes against a real server: three `stepwise worker`
 * processes drive 500+ runs that use steps, durable sleeps and hooks taking two payloads each,
 * while the test SIGKILLs workers (starting replacements), crashes the server (`pg_ctl -m
 * immediate`, then a start that runs crash recovery) and terminates the workers' connections
 * (`pg_terminate_backend`) — each fault fired while the step journal shows a worker inside a step.
 * Required, counted from evidence: at least 20 SIGKILLs that interrupted a step execution, 2 crash
 * restarts (crash recovery seen in the server log each time) and 20 worker connections terminated;
 * no run lost, no step completion recorded twice, every hook payload received and recorded exactly
 * once. It prints the figures in one line. The harness is shared with the SQLite chaos test
 * (test/helpers/chaos/).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configure } from "../../src/api/index.ts";
import type { World } from "../../src/world/types.ts";
import { createPostgresWorld } from "../../src/worlds/postgres/index.ts";
import { type Fault, runChaos } from "../helpers/chaos/chaos-run.ts";
import { HookLedger } from "../helpers/chaos/hook-ledger.ts";
import { StepJournal } from "../helpers/chaos/step-journal.ts";
import { summaryLine, verifyChaos } from "../helpers/chaos/verify.ts";
import { killFault, WorkerPool } from "../helpers/chaos/worker-pool.ts";
import { BONUS, CHAOS_FILES, PAYLOADS_PER_HOOK } from "../helpers/chaos/workload.ts";
import { type PostgresServer, startPostgres } from "../helpers/postgres.ts";
import { makeProject, type Project, REPO, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");
const WORKERS = 3;
const MIN_RUNS = 500;
const MIN_KILLS_MID_STEP = 20;
const MIN_CRASH_RESTARTS = 2;
const MIN_CONNECTIONS_TERMINATED = 20;
/** The application_name of the workers' connections, so that the test can tell them apart. */
const WORKER_APP = "chaos-worker";

let server: PostgresServer;
let project: Project;
let url: string;
let world: World;
let pool: WorkerPool | undefined;
/** The test's own World hears the server restarts and dropped connections it causes: counted, not printed. */
const worldWarnings: string[] = [];

beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase();
  project = makeProject(CHAOS_FILES);
  world = await createPostgresWorld({
    connectionString: url,
    warn: (message) => worldWarnings.push(message),
  });
  process.env.STEPWISE_WORKER = "0";
  configure({ world });
}, 60_000);
afterAll(async () => {
  await pool?.stop();
  await world?.close();
  await server?.stop();
  project?.remove();
});

/** How many times the server's log says `what`. */
function logged(what: string): number {
  return readFileSync(join(server.dir, "log"), "utf8").split(what).length - 1;
}

/** Crash recoveries the server has logged so far (one per start after an immediate stop). */
const crashRecoveries = () =>
  logged("database system was not properly shut down; automatic recovery in progress");

/** Crashes the server while a worker is inside a step; lands when the restart ran crash recovery. */
function crashFault(workers: WorkerPool): Fault {
  return {
    name: "crash restarts (pg_ctl -m immediate)",
    quota: MIN_CRASH_RESTARTS,
    gapMs: [5_000, 9_000],
    fire: async () => {
      if ((await workers.waitForOpenSteps(5_000)).length === 0) return 0;
      const before = crashRecoveries();
      await server.restart("immediate");
      return crashRecoveries() > before ? 1 : 0;
    },
  };
}

/** Terminates every client connection while a worker is inside a step; lands: the workers' ones. */
function dropConnectionsFault(workers: WorkerPool): Fault {
  return {
    name: "worker connections terminated",
    quota: MIN_CONNECTIONS_TERMINATED,
    gapMs: [1_000, 2_500],
    fire: async () => {
      if ((await workers.waitForOpenSteps(5_000)).length === 0) return 0;
      const admin = new pg.Client({ connectionString: url });
      // A crash restart may end this connection too: its query then fails, not the test process.
      admin.on("error", () => {});
      try {
        await admin.connect();
        const { rows } = await admin.query<{ worker: boolean; terminated: boolean }>(
          `SELECT application_name = $1 AS worker, pg_terminate_backend(pid) AS terminated
             FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
          [WORKER_APP],
        );
        return rows.filter((row) => row.worker && row.terminated).length;
      } finally {
        await admin.end().catch(() => undefined);
      }
    },
  };
}

describe("faults under load on PostgreSQL", () => {
  it("loses no run, records no step twice and delivers every hook payload once, through kills, crashes and dropped connections", async () => {
    const env = {
      STEPWISE_WORLD: "postgres",
      STEPWISE_POSTGRES_URL: `${url}?application_name=${WORKER_APP}`,
    };
    const journal = new StepJournal(project.dir);
    const workers = new WorkerPool(
      () =>
        spawnNode([CLI, "worker", "workflows/chaos.ts", "--lease-ms", "2000", "--quiet"], project.dir, env),
      journal,
      WORKERS,
    );
    pool = workers;
    const ledger = new HookLedger(world, { perHook: PAYLOADS_PER_HOOK, bonus: BONUS });

    const outcome = await runChaos({
      world,
      ledger,
      faults: [killFault(workers, MIN_KILLS_MID_STEP), crashFault(workers), dropConnectionsFault(workers)],
      minRuns: MIN_RUNS,
      maxRuns: 3 * MIN_RUNS,
      runsPerSecond: 20,
      faultsWithinMs: 120_000,
      finishWithinMs: 60_000,
    });
    await workers.stop();
    await ledger.settleAll(Date.now() + 30_000);
    const figures = await verifyChaos(world, outcome, ledger, journal, workers.kills);
    console.log(
      `${summaryLine("PostgreSQL chaos", outcome, figures, ledger)}; the test's World reported ${worldWarnings.length} connection problem(s)`,
    );

    expect(workers.unexpectedExits).toEqual([]);
    expect(figures.problems).toEqual([]);
    expect(figures.runs).toBeGreaterThanOrEqual(MIN_RUNS);
    expect(figures.hooks.sent).toBe(figures.runs * PAYLOADS_PER_HOOK);
    const landed = workers.kills.filter((kill) => kill.interrupted.length > 0);
    expect(landed.length).toBeGreaterThanOrEqual(MIN_KILLS_MID_STEP);
    expect(crashRecoveries()).toBeGreaterThanOrEqual(MIN_CRASH_RESTARTS);
    const [, crashes, drops] = outcome.faults;
    expect(crashes?.landed).toBeGreaterThanOrEqual(MIN_CRASH_RESTARTS);
    expect(drops?.landed).toBeGreaterThanOrEqual(MIN_CONNECTIONS_TERMINATED);
    // The server saw them too: one FATAL line per terminated backend (the test's own included).
    expect(logged("terminating connection due to administrator command")).toBeGreaterThanOrEqual(
      drops?.landed ?? Number.POSITIVE_INFINITY,
    );
  }, 240_000);
});
