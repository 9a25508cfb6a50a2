/**
 * Issue 14's spread on its own (run with `npm run build && node bench/workers-spread.mjs`): on a
 * throwaway PostgreSQL 15, `RUNS` runs (default 192) of `STEPS` steps (5) of `STEP_MS` each (200)
 * started at once, executed by 1 and then by `WORKERS` (4) `stepwise worker --concurrency <SLOTS>`
 * (8) processes; prints each round's throughputs and their ratio, and the median ratio over
 * `ROUNDS` (3). The target is ≥ 3.2× with 4 workers. It runs twice: workers on the database
 * directly, and workers reaching it through a `stepwise server` (the remote World;
 * `WORLDS=postgres` or `WORLDS=remote` for one). `npm run bench` runs the same scenario
 * (`scenarios/workers.mjs`, `workerSpread`) and reports it with the other targets.
 */
import { startPostgres } from "./lib/postgres.mjs";
import { workerSpread } from "./scenarios/workers.mjs";

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const plan = {
  workers: env("WORKERS", 4),
  runs: env("RUNS", 192),
  steps: env("STEPS", 5),
  stepMs: env("STEP_MS", 200),
  slots: env("SLOTS", 8),
  rounds: env("ROUNDS", 3),
};

const server = await startPostgres();
try {
  console.log(
    `${plan.runs} runs × ${plan.steps} steps of ${plan.stepMs} ms; workers with --concurrency ${plan.slots}; 1 vs ${plan.workers} workers, ${plan.rounds} round(s)`,
  );
  for (const world of (process.env.WORLDS ?? "postgres,remote").split(",")) {
    console.log(
      `workers on ${world === "remote" ? "the remote World (a stepwise server on PostgreSQL)" : "PostgreSQL directly"}:`,
    );
    const result = await workerSpread(server, { ...plan, say: console.log, remote: world === "remote" });
    console.log(
      `median: 1 worker ${result.oneStepsPerSecond.toFixed(1)} steps/s, ${plan.workers} workers ${result.manyStepsPerSecond.toFixed(1)} steps/s; ratio ${result.ratio.toFixed(2)}× (rounds: ${result.ratios.map((r) => r.toFixed(2)).join(", ")})`,
    );
  }
} finally {
  await server.stop();
}
