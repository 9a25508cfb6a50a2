// npm run bench [-- --full]: Stepwise's own scenarios on the local (SQLite) World.
// Prints a table and writes it to bench/results/<date>.md. Targets are checked here, by
// measurement, never by timed assertions in tests.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { createLocalWorld } from "../dist/worlds/local/index.js";
import { fmt, gaps, median, table } from "./lib/stats.mjs";
import { start, stepTimes, withWorld, workflows } from "./lib/stepwise.mjs";

const full = process.argv.includes("--full");
const local = (dir) => createLocalWorld({ dataDir: dir });
const lines = [];
const say = (text = "") => {
  lines.push(text);
  console.log(text);
};

async function sequential(n) {
  return withWorld(local, async () => {
    stepTimes.length = 0;
    const t0 = performance.now();
    const run = await start(workflows.sequential, [n]);
    await run.returnValue;
    const total = performance.now() - t0;
    const g = gaps(stepTimes);
    const window = Math.min(100, Math.max(1, Math.floor(g.length / 2)));
    return {
      n,
      total,
      perStep: total / n,
      early: median(g.slice(0, window)),
      late: median(g.slice(-window)),
    };
  });
}

async function concurrent(runs, steps) {
  return withWorld(local, async () => {
    const t0 = performance.now();
    const handles = await Promise.all(
      Array.from({ length: runs }, () => start(workflows.sequential, [steps])),
    );
    await Promise.all(handles.map((h) => h.returnValue));
    const seconds = (performance.now() - t0) / 1000;
    return { runs, steps, seconds, stepsPerSecond: (runs * steps) / seconds, runsPerSecond: runs / seconds };
  });
}

async function waitingMemory(count) {
  return withWorld(
    local,
    async (world) => {
      global.gc?.();
      const before = process.memoryUsage().heapUsed;
      const handles = [];
      for (let i = 0; i < count; i++) handles.push(await start(workflows.waitHook, [`bench-hook-${i}`]));
      // Wait until every run is suspended on its hook.
      for (;;) {
        const page = await world.hooks.list({ status: "active", limit: count });
        if (page.length >= count) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 200));
      global.gc?.();
      const after = process.memoryUsage().heapUsed;
      return { count, bytesPerRun: (after - before) / count };
    },
    { maxCachedRuns: 0 },
  );
}

say(`# Stepwise benchmark — ${new Date().toISOString()}`);
say("");
say(
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}. World: local (SQLite, WAL, synchronous=NORMAL).`,
);
say("");

// Warm-up (excluded): sandbox prelude build, JIT, SQLite page cache.
await sequential(200);

const sizes = full ? [10, 100, 1_000, 10_000] : [10, 100, 1_000, 10_000];
const seqRows = [];
for (const n of sizes) {
  const r = await sequential(n);
  seqRows.push(r);
}
say("## One run of N sequential no-op steps");
say("");
say(
  table(
    [
      "steps",
      "total ms",
      "ms/step (total÷N)",
      "ms/step early (median)",
      "ms/step late (median)",
      "late ÷ early",
    ],
    seqRows.map((r) => [
      r.n,
      fmt(r.total, 1),
      fmt(r.perStep),
      fmt(r.early),
      fmt(r.late),
      fmt(r.late / r.early, 2),
    ]),
  ),
);
const at10k = seqRows.find((r) => r.n === 10_000);
const at10 = seqRows.find((r) => r.n === 10);
say("");
say(
  `Per-step overhead at step 10,000: ${fmt(at10k.late)} ms (target < 0.5 ms: ${at10k.late < 0.5 ? "met" : "MISSED"}); ` +
    `run of 10,000 vs run of 10, per step: ${fmt(at10k.perStep / at10.perStep, 2)}×; late vs early within the 10,000-step run: ${fmt(at10k.late / at10k.early, 2)}×.`,
);
say("");

const conc = await concurrent(1_000, 10);
say("## 1,000 concurrent short runs");
say("");
say(
  table(
    ["runs", "steps/run", "seconds", "steps/s", "runs/s"],
    [[conc.runs, conc.steps, fmt(conc.seconds, 2), fmt(conc.stepsPerSecond, 0), fmt(conc.runsPerSecond, 0)]],
  ),
);
say("");
say(
  `Throughput: ${fmt(conc.stepsPerSecond, 0)} steps/s (target ≥ 5,000: ${conc.stepsPerSecond >= 5000 ? "met" : "MISSED"}).`,
);
say("");

const mem = await waitingMemory(full ? 10_000 : 2_000);
say("## Runs waiting on a hook, evicted from the worker");
say("");
say(table(["waiting runs", "heap bytes per run"], [[mem.count, fmt(mem.bytesPerRun, 0)]]));
say("");

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
const file = new URL(`./results/${new Date().toISOString().slice(0, 10)}.md`, import.meta.url);
writeFileSync(file, `${lines.join("\n")}\n`);
console.log(`\nwritten to ${file.pathname}`);
