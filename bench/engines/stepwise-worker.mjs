// Driver process for the TypeScript reference of bench/python.mjs: a dedicated `stepwise worker`
// process (bench/workflows/stepwise.js) on the PostgreSQL database BENCH_PG_URL, reaching it either
// directly (BENCH_WORKER_WORLD=postgres) or through a `stepwise server` on the same database
// (BENCH_WORKER_WORLD=http://…, with STEPWISE_HTTP_SECRET): the same places the Python worker
// runs. Runs are started by this process on the database (STEPWISE_WORKER=0: it runs no
// workflow itself), as bench/remote.mjs does. `sequential {n}`: one run of n sequential no-op
// steps, from just before start() to the first read of the run's record (every 1 ms) that sees it
// completed.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { configure, shutdown, start } from "../../dist/api/index.js";
import { workflowReference } from "../../dist/internal.js";
import { createPostgresWorld } from "../../dist/worlds/postgres/index.js";
import { serveDriver } from "../lib/ipc.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
process.env.STEPWISE_WORKER = "0";
const sequential = workflowReference("workflow//bench/workflows/stepwise.js//sequential");

serveDriver(async () => {
  const url = process.env.BENCH_PG_URL;
  const target = process.env.BENCH_WORKER_WORLD ?? "postgres";
  const world = await createPostgresWorld({ connectionString: url });
  configure({ world });
  const env =
    target === "postgres"
      ? { STEPWISE_WORLD: "postgres", STEPWISE_POSTGRES_URL: url }
      : { STEPWISE_WORLD: target, STEPWISE_HTTP_SECRET: process.env.STEPWISE_HTTP_SECRET };
  const worker = spawn(
    process.execPath,
    [join(root, "dist/cli/index.js"), "worker", "bench/workflows/stepwise.js"],
    {
      cwd: root,
      env: { ...process.env, STEPWISE_WORKER: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  // The worker goes with this driver, however it ends (the orchestrator gone, a kill, a crash).
  process.on("exit", () => worker.kill("SIGKILL"));
  process.on("disconnect", () => process.exit(0));
  let output = "";
  await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      if (output.includes("stepwise worker ")) resolve();
    };
    worker.stdout.on("data", onData);
    worker.stderr.on("data", onData);
    worker.once("exit", (code) => reject(new Error(`stepwise worker exited (${code}):\n${output}`)));
  });

  async function runOnce(n) {
    const run = await start(sequential, [n]);
    for (;;) {
      const record = await world.runs.get(run.runId);
      if (record.status === "completed") return;
      if (record.status === "failed" || record.status === "cancelled")
        throw new Error(`run ${run.runId} ${record.status}`);
      await sleep(1);
    }
  }

  return {
    info: { engine: "stepwise-ts-worker", world: target === "postgres" ? "postgres" : "server" },
    scenarios: {
      async warmUp() {
        for (let i = 0; i < 2; i++) await runOnce(20);
        return {};
      },
      async sequential({ n }) {
        const t0 = performance.now();
        await runOnce(n);
        const totalMs = performance.now() - t0;
        return { totalMs, perStepMs: totalMs / n };
      },
    },
    async close() {
      const gone = new Promise((resolve) => worker.once("exit", resolve));
      worker.kill("SIGTERM");
      const killer = setTimeout(() => worker.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(killer);
      await shutdown();
    },
  };
});
