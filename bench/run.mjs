// npm run bench [-- --full]: Stepwise side by side with its peers, in one run on this machine.
// Engines: Stepwise (local SQLite World, postgres World), the Vercel Workflow SDK (local World,
// Postgres World) and DBOS Transact (PostgreSQL), each in its own driver process
// (bench/engines/*.mjs) running the same scenarios (bench/scenarios/in-process.mjs); the
// durable-write floor (bench/engines/floor.mjs); issue 4's dedicated-worker scenarios
// (bench/scenarios/workers.mjs). Rounds are interleaved (each scenario runs on every engine
// before the next), medians are taken over rounds and ratios within a round. Prints a report and
// writes it to bench/results/<date>.md (bench/lib/report.mjs). Peers are installed into
// bench/peers/ by bench/peers-setup/install.mjs; a peer that cannot be installed or run is
// reported loudly and the rest still runs. Targets are checked here, never in tests.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnDriver } from "./lib/ipc.mjs";
import { startPostgres } from "./lib/postgres.mjs";
import { postgresCpuSeconds, processCpuSeconds, summariseProfile } from "./lib/profile.mjs";
import { renderReport } from "./lib/report.mjs";
import { Results } from "./lib/results.mjs";
import { bootstrapVercelPostgres, ensurePeers, VERCEL_APP } from "./peers-setup/install.mjs";
import { pythonSteps } from "./python.mjs";
import { failover, workerSpread, workerThroughput } from "./scenarios/workers.mjs";

const full = process.argv.includes("--full");
const began = Date.now();
const say = (text = "") => console.log(text);
const MIN = 60_000;

// What runs, per mode. `slow` engines (the Vercel SDK: tens of ms per step, growing with history)
// run the cheap scenarios in fewer rounds and the big ones only with --full, under a time cap.
const PLAN = {
  rounds: full ? 5 : 3,
  slowRounds: full ? 2 : 1,
  floorWrites: { sqlite: full ? 10_000 : 3_000, postgres: full ? 3_000 : 1_000 },
  scenarios: [
    { id: "seq-1", method: "sequential", params: { n: 1 } },
    { id: "seq-10", method: "sequential", params: { n: 10 } },
    { id: "seq-100", method: "sequential", params: { n: 100 } },
    { id: "seq-1000", method: "sequential", params: { n: 1_000 }, slow: "big" },
    { id: "seq-10000", method: "sequential", params: { n: 10_000 }, slow: "never", fullOnly: true },
    { id: "fan-10", method: "fanout", params: { n: 10 } },
    { id: "fan-100", method: "fanout", params: { n: 100 } },
    { id: "fan-1000", method: "fanout", params: { n: 1_000 }, slow: "big" },
    full
      ? { id: "tp-100x5", method: "throughput", params: { runs: 100, steps: 5 } }
      : { id: "tp-100x2", method: "throughput", params: { runs: 100, steps: 2 } },
    {
      id: "tp-1000x10",
      method: "throughput",
      params: { runs: 1_000, steps: 10 },
      slow: "big",
      rounds: full ? 5 : 1,
    },
    { id: "first-step", method: "firstStep", params: { repeats: 10 }, slowParams: { repeats: 3 } },
    { id: "hook", method: "hookResume", params: { repeats: 5 }, slowParams: { repeats: 2 } },
  ],
  bigCapMs: 5 * MIN, // a slow engine's big scenario stops here and reports how far it got
  memory: { fast: full ? 10_000 : 1_000, slow: full ? 1_000 : 100, capMs: 6 * MIN },
  workers: { counts: [1, 2, 4], runs: full ? 1_000 : 500, steps: 10, rounds: full ? 3 : 1 },
  // Issue 14: step-bound work (200 ms steps, 8 slots a worker) on 1 and 4 workers.
  spread: { workers: 4, runs: 192, steps: 5, stepMs: 200, slots: 8, rounds: full ? 3 : 1 },
  profileSteps: full ? 2_000 : 1_000,
  // Issue 15: the Python worker beside DBOS for Python and the TypeScript worker (bench/python.mjs).
  python: { rounds: full ? 9 : 5, steps: 300 },
  failoverRepeats: full ? 3 : 1,
};

const here = fileURLToPath(new URL("./", import.meta.url));
const ENGINES = [
  { id: "stepwise-local", file: "engines/stepwise.mjs", args: ["local"] },
  { id: "stepwise-pg", file: "engines/stepwise.mjs", args: ["postgres"], pg: true },
  {
    id: "vercel-local",
    file: "engines/vercel.mjs",
    args: ["local"],
    slow: true,
    peer: "vercel",
    cwd: VERCEL_APP,
  },
  {
    id: "vercel-pg",
    file: "engines/vercel.mjs",
    args: ["postgres"],
    slow: true,
    peer: "vercelPostgres",
    cwd: VERCEL_APP,
    pg: true,
  },
  { id: "dbos", file: "engines/dbos.mjs", args: [], peer: "dbos", pg: true },
];

// The machine's speed drifts (other tenants): a fixed CPU workload, timed before each phase, shows
// by how much, so that absolute figures (the steps/s targets) can be read against it.
const probeData = Buffer.alloc(1 << 20, 7);
const probes = [];
function probe(phase) {
  const times = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) createHash("sha256").update(probeData).digest();
    times.push(performance.now() - t0);
  }
  probes.push({ phase, ms: times.sort((a, b) => a - b)[2] });
}
probe("start");

const results = new Results();
const notes = []; // loud problems, repeated at the top of the report
const loud = (text) => {
  notes.push(text);
  say(`\n!!!!! ${text.split("\n").join("\n!!!!! ")}\n`);
};

say(`Stepwise benchmark (${full ? "full" : "quick"}) — ${new Date().toISOString()}`);
const peers = ensurePeers(say);
for (const engine of ENGINES) {
  if (engine.peer && !peers[engine.peer].ok) {
    results.unavailable.set(engine.id, peers[engine.peer].error);
    loud(`PEER NOT AVAILABLE: ${engine.id} cannot run here: ${peers[engine.peer].error}`);
  }
}

let server;
try {
  server = await startPostgres();
} catch (error) {
  loud(`POSTGRESQL NOT AVAILABLE: every PostgreSQL engine and scenario is skipped: ${error.message}`);
  for (const engine of ENGINES) if (engine.pg) results.unavailable.set(engine.id, "PostgreSQL did not start");
}

let databases = 0;
/** A driver for `engine` on a fresh World/database, warmed up. Undefined (and noted) on failure. */
async function openEngine(engine, { warm = true, extraEnv = {} } = {}) {
  if (results.unavailable.has(engine.id)) return undefined;
  const env = { ...extraEnv };
  try {
    if (engine.pg) {
      env.BENCH_PG_URL = await server.createDatabase(`${engine.id.replace(/-/g, "_")}_${++databases}`);
      if (engine.id === "vercel-pg") bootstrapVercelPostgres(env.BENCH_PG_URL);
    }
    const driver = await spawnDriver(join(here, engine.file), {
      args: engine.args,
      env,
      cwd: engine.cwd,
      execArgv: engine.slow ? ["--no-warnings"] : [],
      label: engine.id,
    });
    if (driver.error) throw new Error(driver.error);
    if (warm) await driver.call("warmUp", { slow: Boolean(engine.slow) }, 10 * MIN);
    return driver;
  } catch (error) {
    results.unavailable.set(engine.id, error.message);
    loud(`ENGINE FAILED TO START: ${engine.id}: ${error.message.slice(0, 1500)}`);
    return undefined;
  }
}

const headline = (scenario, r) =>
  ({
    sequential: () => `${r.earlyMs?.toFixed(3) ?? "-"} ms/step at ~10, ${r.totalMs.toFixed(1)} ms total`,
    fanout: () => `${r.totalMs.toFixed(1)} ms total`,
    throughput: () => `${r.stepsPerSecond.toFixed(0)} steps/s`,
    firstStep: () => `${r.medianMs.toFixed(3)} ms`,
    hookResume: () => `${r.medianMs.toFixed(3)} ms`,
    waitingMemory: () => `${r.heapBytesPerRun.toFixed(0)} heap bytes/run`,
  })[scenario.method]();

async function runScenario(engine, drivers, scenario, round, { params, timeoutMs }) {
  const driver = drivers.get(engine.id);
  if (!driver) return;
  const pg0 = engine.pg ? postgresCpuSeconds() : undefined;
  try {
    const result = await driver.call(scenario.method, { ...params, timeoutMs }, timeoutMs + 2 * MIN);
    if (scenario.method === "throughput" && pg0 !== undefined)
      result.postgresCpuSeconds = postgresCpuSeconds() - pg0;
    results.add(engine.id, scenario.id, round, result);
    const shown = result.truncated
      ? `did not finish within ${Math.round(timeoutMs / 1000)} s`
      : headline(scenario, result);
    say(`  ${scenario.id.padEnd(11)} ${engine.id.padEnd(15)} round ${round + 1}: ${shown}`);
    if (result.truncated) {
      // Its run is still executing in the background: give the engine a fresh driver and World.
      await driver.close(5_000);
      drivers.set(engine.id, await openEngine(engine));
    }
  } catch (error) {
    results.fail(engine.id, scenario.id, error.message);
    loud(`SCENARIO FAILED: ${engine.id} ${scenario.id}: ${error.message.slice(0, 1500)}`);
    await driver.close(5_000);
    drivers.set(engine.id, await openEngine(engine));
  }
}

// 1. The floor, then every engine's driver (warmed up, warm-up excluded).
const floor = await spawnDriver(join(here, "engines/floor.mjs"), {
  env: server ? { BENCH_PG_URL: await server.createDatabase("floor") } : {},
  label: "floor",
});
const drivers = new Map();
for (const engine of ENGINES) drivers.set(engine.id, await openEngine(engine));
const engineInfo = Object.fromEntries(ENGINES.map((e) => [e.id, drivers.get(e.id)?.info ?? {}]));

// 2. Interleaved rounds: the floor, then each scenario on every engine (rotating the order).
for (let round = 0; round < PLAN.rounds; round++) {
  say(`\nround ${round + 1} of ${PLAN.rounds} (${((Date.now() - began) / 1000).toFixed(0)} s)`);
  if (round > 0) probe(`round ${round + 1}`);
  results.add("floor", "sqlite", round, await floor.call("sqlite", { writes: PLAN.floorWrites.sqlite }));
  if (server)
    results.add(
      "floor",
      "postgres",
      round,
      await floor.call("postgres", { writes: PLAN.floorWrites.postgres }),
    );
  const order = ENGINES.map((_, i) => ENGINES[(i + round) % ENGINES.length]);
  for (const scenario of PLAN.scenarios) {
    if ((scenario.fullOnly && !full) || round >= (scenario.rounds ?? PLAN.rounds)) continue;
    for (const engine of order) {
      if (engine.slow && (scenario.slow === "never" || scenario.slow === "big" || round >= PLAN.slowRounds))
        continue;
      const params = engine.slow && scenario.slowParams ? scenario.slowParams : scenario.params;
      await runScenario(engine, drivers, scenario, round, { params, timeoutMs: 10 * MIN });
    }
  }
}

// 3. A slow engine's big scenarios, once, under the cap (full mode only).
if (full) {
  say(`\nbig scenarios for the slow peers (capped at ${PLAN.bigCapMs / MIN} min each)`);
  for (const scenario of PLAN.scenarios.filter((s) => s.slow === "big")) {
    for (const engine of ENGINES.filter((e) => e.slow)) {
      await runScenario(engine, drivers, scenario, 0, { params: scenario.params, timeoutMs: PLAN.bigCapMs });
    }
  }
}
for (const driver of drivers.values()) await driver?.close();
await floor.close();

// 4. Memory held by waiting runs: a fresh driver per engine.
probe("memory");
say(`\nmemory held by runs waiting on a hook (${((Date.now() - began) / 1000).toFixed(0)} s)`);
for (const engine of ENGINES) {
  const count = engine.slow ? PLAN.memory.slow : PLAN.memory.fast;
  const driver = await openEngine(engine);
  if (!driver) continue;
  const memDrivers = new Map([[engine.id, driver]]);
  const scenario = { id: "memory", method: "waitingMemory" };
  await runScenario(engine, memDrivers, scenario, 0, { params: { count }, timeoutMs: PLAN.memory.capMs });
  await memDrivers.get(engine.id)?.close(5_000);
}

// 5. Issue 4: dedicated worker processes on PostgreSQL, and failover.
let workers;
let spread;
let remoteSpread;
let failoverResult;
const profileDir = mkdtempSync(join(tmpdir(), "stepwise-bench-profiles-"));
probe("workers");
if (server) {
  say(
    `\nStepwise on PostgreSQL with dedicated worker processes (${((Date.now() - began) / 1000).toFixed(0)} s)`,
  );
  try {
    workers = await workerThroughput(server, { ...PLAN.workers, say, profileDir });
  } catch (error) {
    loud(`WORKER SCENARIO FAILED: ${error.message}`);
  }
  say("\nspread: 1 vs 4 workers on 200 ms steps (--concurrency 8 each)");
  try {
    spread = await workerSpread(server, { ...PLAN.spread, say });
  } catch (error) {
    loud(`SPREAD SCENARIO FAILED: ${error.message}`);
  }
  say("\nspread over the remote World: the same, workers reaching PostgreSQL through a stepwise server");
  try {
    remoteSpread = await workerSpread(server, { ...PLAN.spread, say, remote: true });
  } catch (error) {
    loud(`REMOTE SPREAD SCENARIO FAILED: ${error.message}`);
  }
  say("\nfailover: SIGKILL the worker driving a run");
  try {
    failoverResult = await failover(server, { repeats: PLAN.failoverRepeats, say });
  } catch (error) {
    loud(`FAILOVER SCENARIO FAILED: ${error.message}`);
  }
}

// 5b. Issue 15: the Python SDK's per-step overhead (SQLite and PostgreSQL behind a server), DBOS for
// Python and the TypeScript worker on the same PostgreSQL. Needs no PostgreSQL for its SQLite part.
probe("python");
say(
  `\nthe Python SDK: ${PLAN.python.steps} sequential steps per run (${((Date.now() - began) / 1000).toFixed(0)} s)`,
);
let python;
try {
  python = await pythonSteps(server, { ...PLAN.python, say, loud });
} catch (error) {
  loud(`PYTHON SCENARIO FAILED: ${error.message}`);
}

// 6. Profiles of Stepwise's per-step path (one 2,000-step run per World) and of a dedicated worker.
probe("profiles");
say(`\nCPU profiles (${((Date.now() - began) / 1000).toFixed(0)} s)`);
const profiles = {};
for (const engine of ENGINES.filter((e) => e.id.startsWith("stepwise"))) {
  const driver = await openEngine(engine, { extraEnv: { BENCH_TRACK_FUNCTIONS: "1" } });
  if (!driver) continue;
  const file = join(profileDir, `${engine.id}-sequential.cpuprofile`);
  try {
    const result = await driver.call("profile", {
      scenario: "sequential",
      params: { n: PLAN.profileSteps },
      file,
    });
    profiles[engine.id] = { file, result, summary: summariseProfile(file) };
    const cpu0 = { node: processCpuSeconds(driver.pid), postgres: postgresCpuSeconds() };
    profiles[engine.id].sql = (await driver.call("sqlTrace", { n: PLAN.profileSteps })).statements;
    profiles[engine.id].cpuPerStep = {
      node: ((processCpuSeconds(driver.pid) - cpu0.node) * 1e6) / PLAN.profileSteps,
      postgres: engine.pg ? ((postgresCpuSeconds() - cpu0.postgres) * 1e6) / PLAN.profileSteps : undefined,
    };
    if (engine.id === "stepwise-local") profiles[engine.id].wal = await driver.call("walFrames", { n: 100 });
    if (engine.pg) profiles[engine.id].server = await driver.call("serverTime", { n: PLAN.profileSteps });
    // The start path: every statement of one one-step run, from start() to completion.
    profiles[engine.id].startSql = (await driver.call("sqlTrace", { n: 1 })).statements;
  } catch (error) {
    loud(`PROFILE FAILED: ${engine.id}: ${error.message}`);
  }
  await driver.close();
}
const workerProfile = readdirSync(profileDir).find((f) => f.startsWith("CPU."));
if (workerProfile) {
  const file = join(profileDir, workerProfile);
  const window = workers?.profiledWindow;
  profiles["stepwise-worker"] = {
    file,
    summary: summariseProfile(file, { window }),
    steps: window ? workers.profiledSteps : 0,
  };
}
await server?.stop();
if (profiles["stepwise-local"])
  profiles["stepwise-local"].floorFrames = results.value("floor", "sqlite", "framesPerWrite");
if (profiles["stepwise-pg"])
  profiles["stepwise-pg"].floorWalBytes = results.value("floor", "postgres", "walBytesPerWrite");

// 7. The report (the raw figures go to a .json beside it; bench/render.mjs re-renders from it).
const context = {
  full,
  plan: PLAN,
  results,
  notes,
  peers,
  engineInfo,
  workers,
  spread,
  remoteSpread,
  failover: failoverResult,
  python,
  profiles,
  probes,
  minutes: (Date.now() - began) / MIN,
  at: new Date().toISOString(),
};
mkdirSync(join(here, "results"), { recursive: true });
// bench/results/<date>.md (-full for --full; -2, -3 ... when the day already has one).
const base = join(here, "results", `${new Date().toISOString().slice(0, 10)}${full ? "-full" : ""}`);
let file = `${base}.md`;
for (let n = 2; existsSync(file); n++) file = `${base}-${n}.md`;
writeFileSync(join(profileDir, "figures.json"), JSON.stringify(context));
const report = renderReport(context);
say(`\n${report}`);
writeFileSync(file, `${report}\n`);
say(`written to ${file} (raw figures and profiles: ${profileDir})`);
