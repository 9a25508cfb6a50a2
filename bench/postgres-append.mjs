/**
 * Measures what a checkpoint costs on the postgres World (run with `npm run build && node
 * bench/postgres-append.mjs`): two-event checkpoints (`step_started` + `step_completed`) appended
 * by a World that did not create the runs, as a worker in another process does. Two shapes: one
 * run appended to sequentially, and 5,000 runs appended to one at a time and 32 at a time, round
 * after round (more runs than a per-process cache of runs would hold). For each: the mean and p50 latency, and the
 * statements the World sent to the server per checkpoint (counted on the pool it is given). A
 * throwaway PostgreSQL server (bench/lib/postgres.mjs). Prints numbers; asserts nothing.
 */
import pg from "pg";
import { createPostgresWorld } from "../dist/worlds/postgres/index.js";
import { startPostgres } from "./lib/postgres.mjs";

const payload = new Uint8Array(200).fill(7);
const input = new Uint8Array(2048).fill(1);
const ms = (value) => `${value.toFixed(3)} ms`;

function checkpoint(index) {
  const stepId = `step_${index}`;
  return [
    { type: "step_started", data: { stepId, stepName: "bench/step", attempt: 1 }, payload },
    { type: "step_completed", data: { stepId, attempt: 1 }, payload },
  ];
}

/** A World on its own pool, whose statements are counted. */
async function countedWorld(url, schema) {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const counter = { statements: 0 };
  // Every statement of the pool's connections, whether sent by pool.query or in a transaction.
  pool.on("connect", (client) => {
    const query = client.query.bind(client);
    client.query = (...args) => {
      counter.statements++;
      return query(...args);
    };
  });
  return { world: await createPostgresWorld({ pool, schema }), pool, counter };
}

async function createRuns(url, schema, count) {
  const maker = await createPostgresWorld({ connectionString: url, schema });
  const ids = [];
  for (let start = 0; start < count; start += 500) {
    const batch = [];
    for (let index = start; index < Math.min(count, start + 500); index++) {
      const runId = `wrun_bench_${schema}_${index}`;
      batch.push({ runId, workflowName: "bench", specVersion: 1, seed: "s", encrypted: false, input });
      ids.push(runId);
    }
    await maker.runs.createMany(batch);
  }
  await maker.close();
  return ids;
}

async function sequential(url, count) {
  const [runId] = await createRuns(url, "seq", 1);
  const { world, pool, counter } = await countedWorld(url, "seq");
  let seq = (
    await world.events.append({ runId, expectedSeq: 1, events: [{ type: "run_started", data: {} }] })
  ).seq;
  const times = [];
  const before = counter.statements;
  for (let index = 0; index < count; index++) {
    const start = performance.now();
    seq = (await world.events.append({ runId, expectedSeq: seq, events: checkpoint(index) })).seq;
    times.push(performance.now() - start);
  }
  const statements = (counter.statements - before) / count;
  await world.close();
  await pool.end();
  times.sort((a, b) => a - b);
  return { mean: times.reduce((a, b) => a + b, 0) / count, p50: times[count >> 1], statements };
}

async function manyRuns(url, schema, runs, rounds, concurrency) {
  const ids = await createRuns(url, schema, runs);
  const { world, pool, counter } = await countedWorld(url, schema);
  const seqs = new Map(ids.map((id) => [id, 1]));
  const before = counter.statements;
  const start = performance.now();
  for (let round = 0; round < rounds; round++) {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < ids.length) {
          const runId = ids[next++];
          const result = await world.events.append({
            runId,
            expectedSeq: seqs.get(runId),
            events: checkpoint(round),
          });
          seqs.set(runId, result.seq);
        }
      }),
    );
  }
  const total = performance.now() - start;
  const appends = runs * rounds;
  const statements = (counter.statements - before) / appends;
  await world.close();
  await pool.end();
  return { perAppend: total / appends, throughput: (appends / total) * 1000, statements };
}

const server = await startPostgres();
try {
  const url = await server.createDatabase("bench_append");
  const one = await sequential(url, 2_000);
  console.log(
    `one run, 2,000 sequential checkpoints: mean ${ms(one.mean)}, p50 ${ms(one.p50)}, ${one.statements.toFixed(2)} statements per checkpoint`,
  );
  for (const concurrency of [1, 32]) {
    const many = await manyRuns(url, `many${concurrency}`, 5_000, 2, concurrency);
    console.log(
      `5,000 runs x 2 checkpoints, ${concurrency} at a time: ${ms(many.perAppend)} per checkpoint (${many.throughput.toFixed(0)}/s), ${many.statements.toFixed(2)} statements per checkpoint`,
    );
  }
} finally {
  await server.stop();
}
