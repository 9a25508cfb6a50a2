// Driver process for the dedicated-worker scenarios: a Stepwise client (STEPWISE_WORKER=0: it
// starts and reads runs, executes nothing) on the postgres World at BENCH_PG_URL. The runs are
// executed by `stepwise worker bench/workflows/stepwise.js` processes (scenarios/workers.mjs).
// Completion: one query every 5 ms counting the batch's completed runs in the World's `runs` table.
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { configure, shutdown, start } from "../../dist/api/index.js";
import { workflowReference } from "../../dist/internal.js";
import { createPostgresWorld } from "../../dist/worlds/postgres/index.js";
import { serveDriver } from "../lib/ipc.mjs";

process.env.STEPWISE_WORKER = "0";
const sequential = workflowReference("workflow//bench/workflows/stepwise.js//sequential");

serveDriver(async () => {
  const world = await createPostgresWorld({ connectionString: process.env.BENCH_PG_URL });
  configure({ world });
  const probe = new pg.Client({ connectionString: process.env.BENCH_PG_URL });
  await probe.connect();
  const countDone = async (ids) => {
    const { rows } = await probe.query(
      "SELECT count(*)::int AS done, count(*) FILTER (WHERE status IN ('failed', 'cancelled'))::int AS failed FROM stepwise.runs WHERE run_id = ANY($1) AND status IN ('completed', 'failed', 'cancelled')",
      [ids],
    );
    if (rows[0].failed > 0) throw new Error(`${rows[0].failed} run(s) failed`);
    return rows[0].done;
  };
  return {
    info: { engine: "stepwise-client" },
    scenarios: {
      /** `runs` runs of `steps` steps (each `stepMs` long) started at once; seconds until all are completed. */
      async throughput({ runs, steps, stepMs = 0, timeoutMs = 600_000 }) {
        const t0 = performance.now();
        const handles = await Promise.all(
          Array.from({ length: runs }, () => start(sequential, [steps, stepMs])),
        );
        const startedMs = performance.now() - t0;
        const ids = handles.map((h) => h.runId);
        while ((await countDone(ids)) < runs) {
          if (performance.now() - t0 > timeoutMs)
            throw new Error("throughput: runs unfinished at the deadline");
          await sleep(5);
        }
        const seconds = (performance.now() - t0) / 1000;
        return { runs, steps, seconds, startedMs, stepsPerSecond: (runs * steps) / seconds };
      },
      async startOne({ n, stepMs }) {
        return (await start(sequential, [n, stepMs])).runId;
      },
      async waitDone({ runId, timeoutMs = 120_000 }) {
        const t0 = performance.now();
        while ((await countDone([runId])) < 1) {
          if (performance.now() - t0 > timeoutMs) throw new Error(`run ${runId} unfinished`);
          await sleep(5);
        }
        return true;
      },
    },
    async close() {
      await probe.end();
      await shutdown();
    },
  };
});
