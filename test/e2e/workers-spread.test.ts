/**
 * Work spreads over workers (issue 14, item 7), in real worker processes on a real World (local
 * SQLite and PostgreSQL): 50 runs of three 300 ms steps are recorded before two workers start,
 * each worker able to execute 5 steps at once (`--concurrency 5`). A worker claims only what it
 * can start now, so neither takes every run: both run a fair share of the 150 steps, and neither
 * ever holds (leases) more runs than it has step slots — the runs it could not start stay in the
 * queue for the other worker. Nothing here asserts a duration.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eWorld, openE2eWorld } from "../helpers/e2e.ts";
import { makeProject, type Project, REGISTER, REPO, runNode, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");
const RUNS = 50;
const STEPS = 3;
const STEP_MS = 300;
const CONCURRENCY = 5;

const FILES: Record<string, string> = {
  "workflows/jobs.ts": `
import { appendFileSync } from "node:fs";

async function work(label: string, ms: number): Promise<number> {
  "use step";
  await new Promise((resolve) => setTimeout(resolve, ms));
  appendFileSync("journal.log", JSON.stringify({ label, pid: process.pid }) + "\\n");
  return process.pid;
}

export async function job(id: string, steps: number, ms: number) {
  "use workflow";
  for (let i = 0; i < steps; i++) await work(\`\${id}:\${i}\`, ms);
  return id;
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
}

describe.each(["local", "postgres"] as const)("work spreads over workers (%s World)", (kind) => {
  let project: Project;
  let e2e: E2eWorld;

  beforeAll(async () => {
    project = makeProject(FILES);
    e2e = await openE2eWorld(kind, project.dir);
  }, 60_000);
  afterAll(async () => {
    await e2e?.close();
    project?.remove();
  });

  function journal(): Entry[] {
    const file = join(project.dir, "journal.log");
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Entry);
  }

  it("two workers started after 50 runs were recorded both run a fair share, each holding no more runs than it can start", async () => {
    const started = await runNode(
      ["--import", REGISTER, "start.ts", String(RUNS), String(STEPS), String(STEP_MS)],
      project.dir,
      { ...e2e.env, STEPWISE_WORKER: "0" },
    );
    expect(started.code, started.stderr).toBe(0);
    const runIds = JSON.parse(started.stdout) as string[];
    expect(runIds).toHaveLength(RUNS);

    const args = [CLI, "worker", "workflows/jobs.ts", "--quiet", "--concurrency", String(CONCURRENCY)];
    const workers = [spawnNode(args, project.dir, e2e.env), spawnNode(args, project.dir, e2e.env)];
    // The most runs each worker (lease owner) held at once, sampled while the runs go through.
    const mostHeld = new Map<string, number>();
    try {
      const deadline = Date.now() + 90_000;
      for (;;) {
        // One statement, so one consistent snapshot of every lease (reading the runs one by one
        // could see a run before its worker let go and the run it took next after).
        const running = await e2e.world.runs.list({ status: "running", limit: 1000 });
        const held = new Map<string, number>();
        for (const run of running.items) {
          const owner = run.lease?.owner;
          if (owner !== undefined) held.set(owner, (held.get(owner) ?? 0) + 1);
        }
        for (const [owner, count] of held) mostHeld.set(owner, Math.max(mostHeld.get(owner) ?? 0, count));
        const runs = await Promise.all(runIds.map((id) => e2e.world.runs.get(id)));
        if (runs.every((run) => run.status === "completed")) break;
        if (Date.now() > deadline) {
          const left = runs.filter((run) => run.status !== "completed").length;
          throw new Error(
            `${left} of ${RUNS} runs not completed after 90 s; workers said:\n${workers.map((w) => w.output.stderr).join("\n")}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      for (const worker of workers) worker.child.kill("SIGTERM");
      await Promise.all(workers.map((worker) => worker.exited));
    }

    const entries = journal();
    const perWorker = workers.map(({ child }) => entries.filter((entry) => entry.pid === child.pid).length);
    console.log(
      `${kind}: steps per worker ${perWorker.join(", ")}; most runs held at once per worker ${[...mostHeld.values()].join(", ")}`,
    );
    // Every step ran (once or, if a worker's lease lapsed under load, again): all 150 are there.
    expect(new Set(entries.map((entry) => entry.label)).size).toBe(RUNS * STEPS);
    // A fair share: each worker ran at least a quarter of the steps (half would be even; the
    // margin is for one worker starting up later than the other on a loaded machine).
    for (const count of perWorker) expect(count).toBeGreaterThanOrEqual((RUNS * STEPS) / 4);
    // Claims only what it can start: never more runs at once than step slots.
    expect(mostHeld.size).toBeGreaterThan(0);
    for (const [owner, count] of mostHeld) expect(count, owner).toBeLessThanOrEqual(CONCURRENCY);
  }, 180_000);
});
