/**
 * Measures a worker's claim when the queue holds another application's backlog (run with
 * `npm run build && node bench/queue-claim.mjs`): 10,000 due start messages of a workflow this
 * worker does not have, on the local and the postgres World (a throwaway PostgreSQL 15). Times the
 * claim a worker makes now (filtered by its workflows), the unfiltered claim it made before (which
 * took the other application's messages, to hand them back), `nextAvailableAt` both ways, and a
 * claim of one message of ours with and without the backlog. Prints medians; asserts nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalWorld } from "../dist/worlds/local/index.js";
import { createPostgresWorld } from "../dist/worlds/postgres/index.js";
import { startPostgres } from "./lib/postgres.mjs";

const BACKLOG = Number(process.env.BACKLOG ?? 10_000);
const REPS = Number(process.env.REPS ?? 300);
const MINE = "workflow//app/workflows/mine.ts//mine";
const OTHER = "workflow//other-app/workflows/other.ts//other";
const input = new Uint8Array(16).fill(1);
const LEASE = 60_000;

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const us = (ms) => `${(ms * 1000).toFixed(0)} µs`.padStart(9);
let runs = 0;
const newRun = (world, workflowName) =>
  world.runs.create({ runId: `wrun_bench_${++runs}`, workflowName, specVersion: 1, seed: "s", input });

async function timed(reps, before, fn) {
  const times = [];
  for (let i = 0; i < reps + 50; i++) {
    await before?.();
    const start = performance.now();
    await fn();
    if (i >= 50) times.push(performance.now() - start);
  }
  return median(times);
}

async function measure(world, backlog) {
  for (let i = 0; i < backlog; i += 200)
    await Promise.all(Array.from({ length: Math.min(200, backlog - i) }, () => newRun(world, OTHER)));
  const mine = await newRun(world, MINE);
  await world.queue.ack(
    "setup",
    (await world.queue.claim("setup", { limit: 10, leaseMs: LEASE, workflows: [MINE] })).map(
      (m) => m.messageId,
    ),
  );
  const filter = { workflows: [MINE] };
  const out = {};
  out["claim, nothing of ours due (filtered)"] = await timed(REPS, null, () =>
    world.queue.claim("w", { limit: 64, leaseMs: LEASE, ...filter }),
  );
  out["nextAvailableAt (filtered)"] = await timed(REPS, null, () => world.queue.nextAvailableAt(filter));
  out["nextAvailableAt (unfiltered)"] = await timed(REPS, null, () => world.queue.nextAvailableAt());
  let claimed = [];
  const claimOne = async (options) =>
    timed(
      REPS,
      async () => {
        await world.queue.ack(
          "w",
          claimed.map((message) => message.messageId),
        );
        await world.queue.enqueue([{ runId: mine.runId, kind: "wake" }]);
      },
      async () => {
        claimed = await world.queue.claim("w", { limit: 64, leaseMs: LEASE, ...options });
      },
    );
  out["claim one of ours (filtered)"] = await claimOne(filter);
  if (backlog === 0) out["claim one of ours (unfiltered)"] = await claimOne({});
  // Last: the claims and releases it makes leave dead rows behind (on PostgreSQL) that would
  // slow the measurements after it.
  let taken = [];
  out["claim as before (unfiltered: takes 64 of theirs)"] = await timed(
    REPS,
    async () => {
      for (const message of taken) await world.queue.release("w", message.messageId);
    },
    async () => {
      taken = await world.queue.claim("w", { limit: 64, leaseMs: LEASE });
    },
  );
  for (const message of taken) await world.queue.release("w", message.messageId);
  return out;
}

async function report(label, open) {
  for (const backlog of [BACKLOG, 0]) {
    const { world, close } = await open();
    try {
      const out = await measure(world, backlog);
      console.log(
        `${label}, ${backlog.toLocaleString("en")} due messages of another workflow (median of ${REPS})`,
      );
      for (const [name, ms] of Object.entries(out)) console.log(`  ${name.padEnd(50)} ${us(ms)}`);
    } finally {
      await close();
    }
  }
}

await report("local World", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "stepwise-bench-"));
  const world = createLocalWorld({ dataDir });
  const close = async () => {
    await world.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { world, close };
});

const server = await startPostgres();
try {
  let schemas = 0;
  await report("postgres World", async () => {
    const world = await createPostgresWorld({ connectionString: server.url, schema: `bench_${++schemas}` });
    return { world, close: () => world.close() };
  });
} finally {
  await server.stop();
}
