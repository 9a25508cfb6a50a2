/**
 * Faults under load, in real processes against a real PostgreSQL server: 500 runs that use steps,
 * sleeps and hooks, driven by three worker processes while the test SIGKILLs workers at random
 * moments (starting replacements), restarts the PostgreSQL server in the middle of the load, and
 * terminates the workers' database connections. Every run must complete with the right result, no
 * completed step may be recorded twice, and every log must be gap-free. The test prints the counts
 * it checked.
 */
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configure, resumeHook } from "../../src/api/index.ts";
import type { World } from "../../src/world/types.ts";
import { createPostgresWorld } from "../../src/worlds/postgres/index.ts";
import { type PostgresServer, startPostgres } from "../helpers/postgres.ts";
import { makeProject, type Project, REGISTER, REPO, runNode, spawnNode } from "../helpers/project.ts";

const RUNS = 500;
const BONUS = 10;
const CLI = join(REPO, "dist", "cli", "index.js");

const FILES: Record<string, string> = {
  "workflows/chaos.ts": `
import { createHook, sleep } from "stepwise";

async function add(a: number, b: number): Promise<number> {
  "use step";
  return a + b;
}

export async function chaos(i: number) {
  "use workflow";
  let total = await add(i, 1);
  await sleep(50 + (i % 5) * 50);
  total = await add(total, 2);
  const approval = await createHook<{ bonus: number }>({ token: \`chaos-\${i}\` });
  total = await add(total, approval.bonus);
  return await add(total, 3);
}
`,
  "start.ts": `
import { start } from "stepwise/api";
import { chaos } from "./workflows/chaos.ts";
const ids = [];
for (let i = 0; i < Number(process.argv[2]); i++) ids.push((await start(chaos, [i])).runId);
console.log(JSON.stringify(ids));
`,
};

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

/** Retries a call while the database is briefly unavailable (restarts, killed connections). */
async function patiently<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt > 50) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe("faults under load on PostgreSQL", () => {
  it("completes every run, records every step once, through kills, a server restart and dropped connections", async () => {
    const env = { STEPWISE_WORLD: "postgres", STEPWISE_POSTGRES_URL: url };
    const started = await runNode(["--import", REGISTER, "start.ts", String(RUNS)], project.dir, {
      ...env,
      STEPWISE_WORKER: "0",
    });
    const runIds = JSON.parse(started.stdout) as string[];
    expect(runIds).toHaveLength(RUNS);
    const indexOf = new Map(runIds.map((id, i) => [id, i]));

    const spawnWorker = () =>
      spawnNode([CLI, "worker", "workflows/chaos.ts", "--lease-ms", "2000", "--quiet"], project.dir, env);
    const workers = [spawnWorker(), spawnWorker(), spawnWorker()];
    const counts = { kills: 0, restarts: 0, terminatedConnections: 0, resumes: 0, resumeRetries: 0 };
    const resumed = new Set<string>();
    let done = false;

    // Resume each hook once it exists (again if a resume failed).
    const resumer = (async () => {
      while (!done) {
        try {
          const hooks = await world.hooks.list({ status: "active", limit: 1000 });
          for (const hook of hooks) {
            if (resumed.has(hook.token)) continue;
            try {
              await resumeHook(hook.token, { bonus: BONUS });
              resumed.add(hook.token);
              counts.resumes += 1;
            } catch {
              counts.resumeRetries += 1;
            }
          }
        } catch {
          // The server is restarting; look again shortly.
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    // Chaos: kill a random worker every 0.7–1.5 s and start a replacement; drop connections.
    const chaos = (async () => {
      let tick = 0;
      while (!done) {
        await new Promise((r) => setTimeout(r, 700 + Math.random() * 800));
        if (done) break;
        tick += 1;
        const victim = Math.floor(Math.random() * workers.length);
        workers[victim]?.child.kill("SIGKILL");
        counts.kills += 1;
        workers[victim] = spawnWorker();
        if (tick % 3 === 0) {
          const admin = new pg.Client({ connectionString: url });
          try {
            await admin.connect();
            const { rowCount } = await admin.query(
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            );
            counts.terminatedConnections += rowCount ?? 0;
          } catch {
            // The server may be restarting.
          } finally {
            await admin.end().catch(() => undefined);
          }
        }
      }
    })();

    // Restart the server once the load is well under way.
    const deadline = Date.now() + 240_000;
    let restarted = false;
    let completed = 0;
    while (completed < RUNS) {
      if (Date.now() > deadline) throw new Error(`only ${completed} of ${RUNS} runs completed in time`);
      await new Promise((r) => setTimeout(r, 500));
      const page = await patiently(() => world.runs.list({ status: "completed", limit: 1000 }));
      completed = page.items.length;
      if (!restarted && completed >= RUNS * 0.3) {
        restarted = true;
        await server.restart();
        counts.restarts += 1;
      }
    }
    done = true;
    await Promise.all([resumer, chaos]);
    for (const worker of workers) worker.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exited));

    // Every run completed with the right result; every step recorded once; logs gap-free.
    let steps = 0;
    let events = 0;
    let duplicates = 0;
    for (const runId of runIds) {
      const run = await patiently(() => world.runs.get(runId));
      expect(run.status).toBe("completed");
      const log = await patiently(() => world.events.list(runId));
      expect(log.map((event) => event.seq)).toEqual(log.map((_, k) => k + 1));
      const completions = log
        .filter((e) => e.type === "step_completed")
        .map((e) => (e.data as { stepId: string }).stepId);
      duplicates += completions.length - new Set(completions).size;
      expect(completions).toHaveLength(4);
      steps += completions.length;
      events += log.length;
      expect(log.filter((e) => e.type === "run_completed")).toHaveLength(1);
    }
    expect(duplicates).toBe(0);
    const outputs = await patiently(() => world.runs.list({ status: "completed", limit: 1000 }));
    const { getRun } = await import("../../src/api/index.ts");
    for (const runId of runIds) {
      const i = indexOf.get(runId) ?? -1;
      expect(await getRun(runId).returnValue).toBe(i + 6 + BONUS);
    }
    expect(outputs.items).toHaveLength(RUNS);
    console.log(
      `chaos: ${RUNS} runs completed with the right result; ${steps} step completions and ${events} events checked, 0 recorded twice; ` +
        `${counts.kills} workers SIGKILLed, ${counts.restarts} server restart, ${counts.terminatedConnections} connections terminated, ` +
        `${counts.resumes} hooks resumed (${counts.resumeRetries} resume attempts failed and were retried)`,
    );
  }, 300_000);
});
