/**
 * Measures the local World's append latency (run with `npm run build && node
 * bench/local-append.mjs`): sequential two-event checkpoints on one run as its log
 * grows past 10,000 events, and 1,000 runs x 10 checkpoints issued concurrently, with group commit
 * on and off (and synchronous=FULL for comparison). Prints numbers; asserts nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalWorld } from "../dist/worlds/local/index.js";

const payload = new Uint8Array(200).fill(7);
const input = new Uint8Array(64).fill(1);

function checkpoint(index) {
  const stepId = `step_${index}`;
  return [
    { type: "step_started", data: { stepId, stepName: "bench/step", attempt: 1 }, payload },
    { type: "step_completed", data: { stepId, attempt: 1 }, payload },
  ];
}

async function withWorld(options, fn) {
  const dataDir = mkdtempSync(join(tmpdir(), "stepwise-bench-"));
  const world = createLocalWorld({ dataDir, ...options });
  try {
    return await fn(world);
  } finally {
    await world.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const us = (ms) => `${(ms * 1000).toFixed(1)} µs`;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function sequential(options, count) {
  return withWorld(options, async (world) => {
    const runId = `wrun_seq_${Date.now()}`;
    await world.runs.create({ runId, workflowName: "bench", specVersion: 1, seed: "s", input });
    let seq = (
      await world.events.append({ runId, expectedSeq: 1, events: [{ type: "run_started", data: {} }] })
    ).seq;
    const times = [];
    for (let index = 0; index < count; index++) {
      const start = performance.now();
      seq = (await world.events.append({ runId, expectedSeq: seq, events: checkpoint(index) })).seq;
      times.push(performance.now() - start);
    }
    const mean = (list) => list.reduce((a, b) => a + b, 0) / list.length;
    const sorted = [...times].sort((a, b) => a - b);
    return {
      mean: mean(times),
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      first1000: mean(times.slice(0, 1000)),
      last1000: mean(times.slice(-1000)),
      events: seq,
    };
  });
}

async function concurrent(options, runs, appendsPerRun) {
  return withWorld(options, async (world) => {
    const ids = [];
    for (let index = 0; index < runs; index++) {
      const runId = `wrun_c_${index}`;
      await world.runs.create({ runId, workflowName: "bench", specVersion: 1, seed: "s", input });
      ids.push(runId);
    }
    const start = performance.now();
    await Promise.all(
      ids.map(async (runId) => {
        let seq = 1;
        for (let index = 0; index < appendsPerRun; index++) {
          seq = (await world.events.append({ runId, expectedSeq: seq, events: checkpoint(index) })).seq;
        }
      }),
    );
    const total = performance.now() - start;
    return {
      total,
      perAppend: total / (runs * appendsPerRun),
      throughput: (runs * appendsPerRun) / (total / 1000),
    };
  });
}

const configs = [
  ["group commit, synchronous=NORMAL", { groupCommit: true }],
  ["no group commit, synchronous=NORMAL", { groupCommit: false }],
  ["group commit, synchronous=FULL", { groupCommit: true, synchronous: "full" }],
  ["no group commit, synchronous=FULL", { groupCommit: false, synchronous: "full" }],
];

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

console.log(
  `10,000 sequential 2-event appends to one run (log grows to 20,002 events); median of ${ROUNDS} rounds`,
);
const sequentialResults = new Map(configs.map(([label]) => [label, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [label, options] of configs)
    sequentialResults.get(label).push(await sequential(options, 10_000));
}
for (const [label, results] of sequentialResults) {
  const pick = (key) => us(median(results.map((r) => r[key])));
  console.log(
    `  ${label.padEnd(38)} mean ${pick("mean")}  p50 ${pick("p50")}  p99 ${pick("p99")}  first 1000 ${pick("first1000")}  last 1000 ${pick("last1000")}`,
  );
}
console.log(`1,000 runs x 10 2-event appends, concurrently; median of ${ROUNDS} rounds`);
const concurrentResults = new Map(configs.map(([label]) => [label, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [label, options] of configs)
    concurrentResults.get(label).push(await concurrent(options, 1000, 10));
}
for (const [label, results] of concurrentResults) {
  const total = median(results.map((r) => r.total));
  console.log(
    `  ${label.padEnd(38)} total ${total.toFixed(0)} ms  per append ${us(total / 10_000)}  ${(10_000 / (total / 1000)).toFixed(0)} appends/s`,
  );
}
