/**
 * Many worker processes on one PostgreSQL database, in real processes against a real server:
 * runs spread over the workers and no run is ever driven by two of them at once — including when
 * the race is forced by freezing a worker (SIGSTOP) until its lease expires and thawing it after
 * another worker took over.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configure, getRun } from "../../src/api/index.ts";
import type { World } from "../../src/world/types.ts";
import { createPostgresWorld } from "../../src/worlds/postgres/index.ts";
import { pollFor } from "../helpers/e2e.ts";
import { type PostgresServer, startPostgres } from "../helpers/postgres.ts";
import { makeProject, type Project, REGISTER, REPO, runNode, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");

const FILES: Record<string, string> = {
  "workflows/jobs.ts": `
import { appendFileSync } from "node:fs";

async function work(label: string, ms: number): Promise<number> {
  "use step";
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  appendFileSync("journal.log", JSON.stringify({ label, pid: process.pid, started, ended: Date.now() }) + "\\n");
  return process.pid;
}

export async function job(id: string, steps: number, ms: number) {
  "use workflow";
  const pids: number[] = [];
  for (let i = 0; i < steps; i++) pids.push(await work(\`\${id}:\${i}\`, ms));
  return pids;
}
`,
  "start.ts": `
import { start } from "stepwise-workflows/api";
import { job } from "./workflows/jobs.ts";
const [count, steps, ms] = process.argv.slice(2).map(Number);
const ids = [];
for (let i = 0; i < count!; i++) ids.push((await start(job, [\`job-\${i}\`, steps!, ms!])).runId);
console.log(JSON.stringify(ids));
`,
};

interface Entry {
  label: string;
  pid: number;
  started: number;
  ended: number;
}

let server: PostgresServer;
let project: Project;
let url: string;
let world: World;

beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase();
  project = makeProject(FILES);
  world = await createPostgresWorld({ connectionString: url });
  process.env.STEPWISE_WORKER = "0";
  configure({ world });
}, 60_000);
afterAll(async () => {
  await world?.close();
  await server?.stop();
  project?.remove();
});

const env = () => ({ STEPWISE_WORLD: "postgres", STEPWISE_POSTGRES_URL: url });

function journal(): Entry[] {
  const file = join(project.dir, "journal.log");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Entry);
}

function startWorker(extra: string[] = []) {
  return spawnNode([CLI, "worker", "workflows/jobs.ts", ...extra], project.dir, env());
}

async function startRuns(count: number, steps: number, ms: number): Promise<string[]> {
  const result = await runNode(
    ["--import", REGISTER, "start.ts", String(count), String(steps), String(ms)],
    project.dir,
    {
      ...env(),
      STEPWISE_WORKER: "0",
    },
  );
  expect(result.stderr.replace(/.*STEPWISE_ENCRYPTION_KEY.*\n?/g, "")).toBe("");
  return JSON.parse(result.stdout) as string[];
}

async function waitForAll(runIds: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = await Promise.all(runIds.map(async (id) => (await world.runs.get(id)).status));
    if (statuses.every((s) => s === "completed")) return;
    if (Date.now() > deadline)
      throw new Error(`not all runs completed: ${statuses.filter((s) => s !== "completed").length} left`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** For each run, the intervals during which its steps executed, per worker, must not overlap. */
function overlapsAcrossWorkers(entries: Entry[]): string[] {
  const byRun = new Map<string, Entry[]>();
  for (const entry of entries) {
    const run = entry.label.split(":")[0] ?? "";
    byRun.set(run, [...(byRun.get(run) ?? []), entry]);
  }
  const problems: string[] = [];
  for (const [run, list] of byRun) {
    list.sort((a, b) => a.started - b.started);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1] as Entry;
      const cur = list[i] as Entry;
      if (cur.pid !== prev.pid && cur.started < prev.ended)
        problems.push(`${run}: ${prev.label}@${prev.pid} overlaps ${cur.label}@${cur.pid}`);
    }
  }
  return problems;
}

async function assertRecordedOnce(runIds: string[], steps: number): Promise<number> {
  let checked = 0;
  for (const runId of runIds) {
    const events = await world.events.list(runId);
    const completed = events
      .filter((e) => e.type === "step_completed")
      .map((e) => (e.data as { stepId: string }).stepId);
    expect(new Set(completed).size).toBe(completed.length);
    expect(completed).toHaveLength(steps);
    checked += completed.length;
  }
  return checked;
}

describe("many workers on one PostgreSQL database", () => {
  it("spreads runs over three workers, never driving a run from two at once", async () => {
    const workers = [startWorker(), startWorker(), startWorker()];
    try {
      // All three ready (each compiled the workflow file) before any run exists: otherwise the
      // first one up may drive them all, as it did on a clean clone, where nothing is cached.
      await pollFor("three workers ready", async () =>
        workers.every((worker) => /stepwise worker /.test(worker.output.stdout + worker.output.stderr))
          ? true
          : undefined,
      );
      const runIds = await startRuns(60, 4, 20);
      await waitForAll(runIds, 60_000);
      const entries = journal();
      const pids = new Set(entries.map((e) => e.pid));
      expect(pids.size).toBeGreaterThanOrEqual(2);
      expect(overlapsAcrossWorkers(entries)).toEqual([]);
      const checked = await assertRecordedOnce(runIds, 4);
      const perWorker = [...pids].map((pid) => entries.filter((e) => e.pid === pid).length);
      console.log(
        `spread: ${runIds.length} runs, ${checked} completions recorded once, steps per worker: ${perWorker.join(", ")}`,
      );
    } finally {
      for (const worker of workers) worker.child.kill("SIGTERM");
      await Promise.all(workers.map((w) => w.exited));
    }
  }, 120_000);

  it("a SIGKILLed worker's run continues in another worker within the default 5 s lease", async () => {
    const before = journal().length;
    const doomed = startWorker();
    const survivor = startWorker();
    try {
      const [runId] = await startRuns(1, 40, 100);
      // Wait until the run is being driven, find out by whom, and kill that worker.
      for (let i = 0; i < 400 && journal().length < before + 2; i++)
        await new Promise((r) => setTimeout(r, 10));
      const driver = journal().slice(before).at(-1)?.pid;
      const victim = driver === doomed.child.pid ? doomed : survivor;
      const heir = victim === doomed ? survivor : doomed;
      victim.child.kill("SIGKILL");
      const killedAt = Date.now();
      let resumedAt = 0;
      for (let i = 0; i < 1000 && resumedAt === 0; i++) {
        const next = journal()
          .slice(before)
          .find((e) => e.pid === heir.child.pid);
        if (next) resumedAt = next.started;
        else await new Promise((r) => setTimeout(r, 20));
      }
      expect(resumedAt).toBeGreaterThan(0);
      const takeover = resumedAt - killedAt;
      console.log(
        `takeover: the run continued in another worker ${takeover} ms after its worker was SIGKILLed (lease 5 s)`,
      );
      // Bounded by the lease (5 s) plus scheduling slack on a loaded machine; the bench measures it.
      expect(takeover).toBeLessThan(8_000);
      await waitForAll([runId as string], 60_000);
      await assertRecordedOnce([runId as string], 40);
    } finally {
      for (const worker of [doomed, survivor]) worker.child.kill("SIGTERM");
      await Promise.all([doomed.exited, survivor.exited]);
    }
  }, 120_000);

  it("a worker whose database is unreachable keeps retrying with backoff, naming the server", async () => {
    // A port nothing listens on: the worker must not crash, and must say what it cannot reach.
    const dead = "postgres://postgres@127.0.0.1:1/stepwise";
    const worker = spawnNode([CLI, "worker", "workflows/jobs.ts"], project.dir, {
      STEPWISE_WORLD: "postgres",
      STEPWISE_POSTGRES_URL: dead,
    });
    try {
      for (let i = 0; i < 300 && (worker.output.stderr.match(/retrying in/g)?.length ?? 0) < 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(worker.child.exitCode).toBeNull();
      expect(worker.output.stderr).toMatch(/127\.0\.0\.1:1/);
      expect(worker.output.stderr).toMatch(/retrying in \d/);
      expect(worker.output.stderr.match(/retrying in/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    } finally {
      worker.child.kill("SIGKILL");
      await worker.exited;
    }
  }, 60_000);

  it("a frozen worker whose lease expired cannot write after another worker took its run over", async () => {
    appendFileSync(join(project.dir, "journal.log"), "");
    const before = journal().length;
    const frozen = startWorker(["--lease-ms", "1000"]);
    let other: ReturnType<typeof startWorker> | undefined;
    try {
      const [runId] = await startRuns(1, 12, 150);
      // Let the first worker take the run and do a few steps, then freeze it mid-step.
      for (let i = 0; i < 200 && journal().length < before + 3; i++)
        await new Promise((r) => setTimeout(r, 25));
      frozen.child.kill("SIGSTOP");
      const frozenAt = Date.now();
      other = startWorker(["--lease-ms", "1000"]);
      // The other worker takes over once the lease has expired, and completes the run.
      await waitForAll([runId as string], 60_000);
      frozen.child.kill("SIGCONT");
      await new Promise((r) => setTimeout(r, 1500));
      const entries = journal().slice(before);
      const frozenPid = frozen.child.pid;
      const otherPid = other?.child.pid;
      // Steps the frozen worker finished after it was frozen (it was thawed after the takeover).
      const late = entries.filter((e) => e.pid === frozenPid && e.ended > frozenAt);
      await assertRecordedOnce([runId as string], 12);
      const run = await world.runs.get(runId as string);
      expect(run.status).toBe("completed");
      // What the run recorded for each step: the pid of the worker whose result was kept.
      const recorded = (await getRun(runId as string).returnValue) as number[];
      for (const entry of late) {
        const index = Number(entry.label.split(":")[1]);
        expect(recorded[index], `step ${index}`).toBe(otherPid);
      }
      const takeover = entries.filter((e) => e.pid === otherPid);
      expect(takeover.length).toBeGreaterThan(0);
      console.log(
        `forced race: frozen worker did ${entries.length - takeover.length} step(s), ${late.length} finishing after it was frozen (none recorded); the other worker ${takeover.length}`,
      );
      expect(frozen.output.stderr).toMatch(/lost|stopped|handed|not leased|LEASE_LOST|no longer leased/i);
    } finally {
      frozen.child.kill("SIGCONT");
      frozen.child.kill("SIGTERM");
      other?.child.kill("SIGTERM");
      await Promise.all([frozen.exited, other?.exited]);
    }
  }, 120_000);
});
