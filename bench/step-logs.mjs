// node bench/step-logs.mjs [<other dist>]: what step logs cost per step on the local SQLite World.
// One sequential run of STEPS no-op steps (the bench's `sequential` scenario) in a fresh process
// and data directory per measurement, for: this checkout's dist/ with steps that print nothing,
// the same with steps that print one console.log of an object each, and, when given, another
// build's dist/ (e.g. the commit before step logs, built with `tsc -p tsconfig.build.json` in a
// `git archive` of it) with silent steps. Rounds alternate the variants; the report gives the
// medians of wall and CPU time per step and the median per-round ratio to the other build. Under
// load, CPU time per step is the steadier figure. Never part of the tests.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const STEPS = Number(process.env.STEPS ?? 2000);
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const here = fileURLToPath(import.meta.url);

if (process.argv[2] === "--measure") {
  const [dist, mode] = process.argv.slice(3);
  const { configure, start, shutdown } = await import(join(dist, "api/index.js"));
  const { createLocalWorld } = await import(join(dist, "worlds/local/index.js"));
  const { registerStep, registerWorkflowBundle, workflowReference } = await import(join(dist, "internal.js"));
  registerStep("step//bench//noop", async (i) => {
    if (mode === "log") console.log("step", i, { i });
    return i;
  });
  registerWorkflowBundle({
    filename: "bench-step-logs.js",
    workflowIds: ["workflow//bench//sequential"],
    code: `(() => {
      const r = globalThis[Symbol.for("stepwise.sandbox")].registrar;
      const noop = r.step("step//bench//noop");
      r.registerWorkflow("workflow//bench//sequential", async function sequential(n) {
        let last = 0;
        for (let i = 0; i < n; i++) last = await noop(i);
        return last;
      });
    })();`,
  });
  const dir = mkdtempSync(join(tmpdir(), "stepwise-bench-logs-"));
  configure({ world: createLocalWorld({ dataDir: dir }) });
  const sequential = workflowReference("workflow//bench//sequential");
  await (await start(sequential, [50])).returnValue; // warm up
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await (await start(sequential, [STEPS])).returnValue;
  const wall = (performance.now() - t0) / STEPS;
  const cpu = process.cpuUsage(cpu0);
  await shutdown();
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`${JSON.stringify({ wall, cpu: (cpu.user + cpu.system) / 1000 / STEPS })}\n`);
  process.exit(0);
}

const own = resolve(here, "../../dist");
const other = process.argv[2] === undefined ? undefined : resolve(process.argv[2]);
const variants = [
  ...(other === undefined ? [] : [{ name: "other build, silent steps", dist: other, mode: "silent" }]),
  { name: "this build, silent steps", dist: own, mode: "silent" },
  { name: "this build, one console.log per step", dist: own, mode: "log" },
];
const figures = new Map(variants.map((variant) => [variant.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const variant of variants) {
    const child = spawnSync(process.execPath, [here, "--measure", variant.dist, variant.mode], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, STEPS: String(STEPS) },
    });
    if (child.status !== 0) throw new Error(`${variant.name} failed: ${child.stderr}`);
    const out = child.stderr;
    figures.get(variant.name).push(JSON.parse(out.toString().trim().split("\n").at(-1)));
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
console.log(
  `${STEPS} sequential no-op steps on local SQLite, ${ROUNDS} alternating rounds (ms per step, medians)`,
);
const base = other === undefined ? undefined : figures.get(variants[0].name);
for (const [name, rows] of figures) {
  let line = `${name.padEnd(38)} wall ${median(rows.map((r) => r.wall)).toFixed(3)}  cpu ${median(rows.map((r) => r.cpu)).toFixed(3)}`;
  if (base !== undefined) {
    const ratio = (key) => median(rows.map((r, i) => r[key] / base[i][key])).toFixed(2);
    line += `  ratio to the other build: wall ${ratio("wall")}, cpu ${ratio("cpu")}`;
  }
  console.log(line);
}
