/**
 * Faults under load on the local World, in real processes: four `stepwise worker` processes share
 * one SQLite data directory while the test SIGKILLs them, each time one is inside a step (and
 * starts a replacement), and 500+ runs use steps, durable sleeps and hooks that take two payloads
 * each. The test requires, counted from evidence: at least 20 SIGKILLs that landed inside step
 * execution (the killed process's step journal has a started-but-unfinished step); no run lost,
 * no step completion recorded twice, every hook payload received and recorded exactly once. It
 * prints the figures in one line. The harness is shared with the PostgreSQL chaos test
 * (test/helpers/chaos/).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configure } from "../../src/api/index.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { runChaos } from "../helpers/chaos/chaos-run.ts";
import { HookLedger } from "../helpers/chaos/hook-ledger.ts";
import { StepJournal } from "../helpers/chaos/step-journal.ts";
import { summaryLine, verifyChaos } from "../helpers/chaos/verify.ts";
import { killFault, WorkerPool } from "../helpers/chaos/worker-pool.ts";
import { BONUS, CHAOS_FILES, PAYLOADS_PER_HOOK } from "../helpers/chaos/workload.ts";
import { makeProject, type Project, REPO, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");
const WORKERS = 4;
const MIN_RUNS = 500;
const MIN_KILLS_MID_STEP = 20;

let project: Project;
let world: World;
let pool: WorkerPool | undefined;

beforeAll(() => {
  project = makeProject(CHAOS_FILES);
  world = createLocalWorld({ dataDir: join(project.dir, ".stepwise") });
  process.env.STEPWISE_WORKER = "0";
  configure({ world });
});
afterAll(async () => {
  await pool?.stop();
  await world?.close();
  project?.remove();
});

describe("faults under load on the local World", () => {
  it("loses no run, records no step twice and delivers every hook payload once, through SIGKILLs inside steps", async () => {
    const env = { STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: join(project.dir, ".stepwise") };
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
      faults: [killFault(workers, MIN_KILLS_MID_STEP)],
      minRuns: MIN_RUNS,
      maxRuns: 3 * MIN_RUNS,
      runsPerSecond: 20,
      faultsWithinMs: 120_000,
      finishWithinMs: 60_000,
    });
    await workers.stop();
    await ledger.settleAll(Date.now() + 30_000);
    const figures = await verifyChaos(world, outcome, ledger, journal, workers.kills);
    console.log(summaryLine("SQLite chaos", outcome, figures, ledger));

    expect(workers.unexpectedExits).toEqual([]);
    expect(figures.problems).toEqual([]);
    expect(figures.runs).toBeGreaterThanOrEqual(MIN_RUNS);
    const landed = workers.kills.filter((kill) => kill.interrupted.length > 0);
    expect(landed.length).toBeGreaterThanOrEqual(MIN_KILLS_MID_STEP);
    expect(figures.hooks.sent).toBe(figures.runs * PAYLOADS_PER_HOOK);
  }, 240_000);
});
