/**
 * Worker processes whose wall clocks jump forward by three hours in the middle of a workload, on
 * the local World and on PostgreSQL: nobody dies, so no lease may change hands. Worker B drives
 * the first batch of runs; worker A, with room for more, drives the second. A's clock jumps first:
 * for longer than a lease (5 s), A believes it is three hours later than B does, which made A take
 * every lease B was renewing (each renewal set its expiry on B's clock) as soon as it next looked
 * at the queue. Then B's clock jumps too. Every step
 * records its execution in a journal, with the wall clock's offset from the monotonic one as the
 * process saw it: the test asserts that each step executed exactly once, that each run stayed with
 * one worker, and that each worker really executed steps after its jump (offset ~ +3 h).
 */
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { createPostgresWorld } from "../../src/worlds/postgres/index.ts";
import {
  executionsOf,
  type JournalEntry,
  JUMP_MS,
  type LeaseWorkload,
  makeLeaseWorkload,
  runsDrivenByMany,
  type WorkerProcess,
} from "../helpers/lease-workload.ts";
import { type PostgresServer, startPostgres } from "../helpers/postgres.ts";

const BATCH = 12;
const LONG_STEPS = 80;
const SHORT_STEPS = 30;
const STEP_MS = 150;
/** How long A is ahead of B: more than a lease (5 s), the longest A waits before it claims again. */
const WINDOW_MS = 6_500;

let server: PostgresServer | undefined;
beforeAll(async () => {
  server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

let workload: LeaseWorkload | undefined;
let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
  await workload?.remove();
  workload = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

const jumped = (entry: JournalEntry) => entry.offset > JUMP_MS - 60_000;

async function openRuns(runIds: readonly string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open: string[] = [];
    for (const runId of runIds) {
      const run = await (world as World).runs.get(runId);
      if (run.status !== "completed") open.push(`${runId}: ${run.status}`);
    }
    if (open.length === 0 || Date.now() > deadline) return open;
    await sleep(200);
  }
}

/** Makes the worker's clock jump; resolves once it said so and (if it still has steps) a step saw it. */
async function jump(worker: WorkerProcess, pid: number, journal: () => JournalEntry[]): Promise<void> {
  worker.signal("SIGUSR2");
  const line = await worker.waitFor((entry) => typeof entry.jumped === "number");
  expect(line.jumped).toBe(JUMP_MS);
  await until(`worker ${pid} records a step after its jump`, () =>
    journal().some((entry) => entry.pid === pid && jumped(entry)),
  ).catch(() => {}); // asserted at the end, after what a stolen lease would show first
}

async function scenario(env: Record<string, string>): Promise<void> {
  const load = workload as LeaseWorkload;
  const journal = () => load.journal();
  const b = load.startWorker({ env, maxActiveRuns: BATCH });
  const pidB = (await b.waitFor((line) => line.ready === true)).pid as number;
  const first = await load.startRuns(env, BATCH, LONG_STEPS, STEP_MS, "first");
  await until(
    "worker B drives the first batch",
    () => new Set(journal().map((e) => e.label.split(":")[0])).size >= BATCH,
  );
  // B is full: the second batch goes to A, which keeps room to take more.
  const a = load.startWorker({ env, maxActiveRuns: 4 * BATCH });
  const pidA = (await a.waitFor((line) => line.ready === true)).pid as number;
  const second = await load.startRuns(env, BATCH, SHORT_STEPS, STEP_MS, "second");
  await until("worker A drives steps", () => journal().some((entry) => entry.pid === pidA));

  await jump(a, pidA, journal);
  await sleep(WINDOW_MS); // A is three hours ahead of B: B's leases must still hold
  await jump(b, pidB, journal);

  const runIds = [...first, ...second];
  const open = await openRuns(runIds, 60_000);
  const entries = journal();
  const { counts, duplicates } = executionsOf(entries);
  const perWorker = (pid: number) => entries.filter((entry) => entry.pid === pid);
  console.log(
    `${entries.length} step executions for ${counts.size} steps; worker A ${perWorker(pidA).length} (${perWorker(pidA).filter(jumped).length} after its jump), worker B ${perWorker(pidB).length} (${perWorker(pidB).filter(jumped).length} after its jump)`,
  );
  expect(duplicates).toEqual([]);
  expect(runsDrivenByMany(entries)).toEqual([]);
  expect(open).toEqual([]);
  expect(counts.size).toBe(BATCH * (LONG_STEPS + SHORT_STEPS));
  // The faults were real: each worker executed steps before and after its own jump.
  for (const pid of [pidA, pidB]) {
    expect(perWorker(pid).some((entry) => !jumped(entry))).toBe(true);
    expect(perWorker(pid).some(jumped)).toBe(true);
  }
  // And the log agrees: no step was interrupted and run again; each completed once.
  for (const runId of runIds) {
    const events = await (world as World).events.list(runId);
    const attempts = events
      .filter((event) => event.type === "step_started")
      .map((event) => (event.data as { attempt: number }).attempt);
    expect(attempts.every((attempt) => attempt === 1)).toBe(true);
    const completed = events.filter((event) => event.type === "step_completed");
    expect(completed).toHaveLength(runIds.indexOf(runId) < BATCH ? LONG_STEPS : SHORT_STEPS);
  }
}

describe("worker processes whose wall clocks jump forward", () => {
  it("on the local World: no lease is stolen, every step executes once", async () => {
    workload = makeLeaseWorkload();
    const dataDir = join(workload.project.dir, ".stepwise");
    world = createLocalWorld({ dataDir });
    await scenario({ STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: dataDir });
  }, 180_000);

  it("on PostgreSQL: no lease is stolen, every step executes once", async () => {
    workload = makeLeaseWorkload();
    const url = await (server as PostgresServer).createDatabase();
    world = await createPostgresWorld({ connectionString: url });
    await scenario({ STEPWISE_WORLD: "postgres", STEPWISE_POSTGRES_URL: url });
  }, 180_000);
});
