/**
 * Measures `npx stepwise replay --check` on many stored runs (run with `npm run build && node
 * bench/replay-check.mjs`; `RUNS=5000` for more): a throwaway project on the local World, RUNS runs
 * of an order workflow (a step, three steps at once, a sleep: 11 events each) brought to their sleep
 * by an in-process worker, then the command in its own process, timed end to end (process start and
 * loading the workflow included) and per run. Prints the figures; asserts nothing.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const RUNS = Number(process.env.RUNS ?? 2000);
const REPO = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "stepwise-replay-check-"));
const write = (path, text) => {
  mkdirSync(join(dir, path, ".."), { recursive: true });
  writeFileSync(join(dir, path), text);
};
try {
  write("package.json", JSON.stringify({ name: "bench", type: "module" }));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(REPO, join(dir, "node_modules", "stepwise-workflows"), "dir");
  write(
    "workflows/order.ts",
    `import { sleep } from "stepwise-workflows";
async function price(id: string) { "use step"; return id.length * 10; }
async function reserve(sku: string) { "use step"; return \`rsv-\${sku}\`; }
export async function order(id: string) {
  "use workflow";
  const total = await price(id);
  const reserved = await Promise.all(["tea", "mug", "pot"].map((sku) => reserve(sku)));
  await sleep("1h");
  return [total, reserved];
}
`,
  );
  write(
    "seed.ts",
    `import { getWorld, shutdown, startMany } from "stepwise-workflows/api";
import { order } from "./workflows/order.ts";
const n = Number(process.argv[2]);
for (let i = 0; i < n; i += 1000)
  await startMany(order, Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ args: [\`o-\${i + k}\`] })));
const world = await getWorld();
while ((await world.waits.list({ status: "waiting", limit: 1_000_000 })).length < n)
  await new Promise((resolve) => setTimeout(resolve, 200));
await shutdown();
`,
  );
  const env = { ...process.env, STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: ".stepwise" };
  const seedStart = performance.now();
  execFileSync(process.execPath, ["--import", "stepwise-workflows/register", "seed.ts", String(RUNS)], {
    cwd: dir,
    env,
    stdio: "ignore",
  });
  const seeded = performance.now() - seedStart;
  const cli = join(REPO, "dist", "cli", "index.js");
  // Once to warm the bundle cache (the first load compiles the workflow), then timed with no run.
  execFileSync(process.execPath, [cli, "replay", "--check", "--since", "2999-01-01"], {
    cwd: dir,
    env,
    stdio: "ignore",
  });
  const empty = performance.now();
  execFileSync(process.execPath, [cli, "replay", "--check", "--since", "2999-01-01"], {
    cwd: dir,
    env,
    stdio: "ignore",
  });
  const overhead = performance.now() - empty;
  const start = performance.now();
  execFileSync(process.execPath, [cli, "replay", "--check"], { cwd: dir, env, stdio: "ignore" });
  const total = performance.now() - start;
  const perRun = (total - overhead) / RUNS;
  console.log(
    `replay --check, local World, ${RUNS} runs of 11 events (seeded in ${(seeded / 1000).toFixed(1)} s):`,
  );
  console.log(`  whole command      ${(total / 1000).toFixed(2)} s`);
  console.log(`  of which start-up  ${(overhead / 1000).toFixed(2)} s (no run checked)`);
  console.log(`  per run            ${perRun.toFixed(2)} ms (${Math.round(1000 / perRun)} runs/s)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
