// Issue 4's multi-process scenarios on PostgreSQL (synchronous_commit on), run from the
// orchestrator: dedicated `stepwise worker` processes (node dist/cli/index.js worker
// bench/workflows/stepwise.js --quiet) share one fresh database; a client driver
// (engines/stepwise-client.mjs, STEPWISE_WORKER=0) starts the runs and watches them finish.
// - throughput with 1, 2 and 4 workers: warm-up batch (excluded), then `runs` x `steps` started at
//   once; seconds from the first start() to the last run seen completed.
// - spread (issue 14): 1 and 4 workers, each with `--concurrency <slots>`, on runs of 200 ms steps
//   (step-bound work: a worker runs `slots` steps at once, whatever the database could do); the
//   figure is 4 workers' throughput over one worker's, taken within a round, median over rounds.
// - failover: two workers; a run of slow steps (10 ms each) starts, and once it has run 20 steps
//   its worker is SIGKILLed; the figure is the time from the kill to the first step another
//   worker runs (each step appends "<pid> <epoch ms>" to a log file).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { spawnDriver } from "../lib/ipc.mjs";
import { monotonicUs, postgresCpuSeconds, processCpuSeconds } from "../lib/profile.mjs";
import { median } from "../lib/stats.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(root, "dist/cli/index.js");
const workflowFile = "bench/workflows/stepwise.js";
const clientFile = fileURLToPath(new URL("../engines/stepwise-client.mjs", import.meta.url));

async function startWorkers(count, url, env = {}, execArgv = [], args = []) {
  const workers = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, [...execArgv, cli, "worker", workflowFile, "--quiet", ...args], {
      cwd: root,
      env: { ...process.env, STEPWISE_WORLD: "postgres", STEPWISE_POSTGRES_URL: url, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const ready = new Promise((resolve, reject) => {
      const onData = (chunk) => {
        output += chunk;
        if (output.includes("stepwise worker ")) resolve();
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.once("exit", (code) =>
        reject(new Error(`worker exited (${code}) before it was ready:\n${output}`)),
      );
    });
    workers.push({ child, pid: child.pid, ready, output: () => output });
  }
  await Promise.all(workers.map((w) => w.ready));
  return workers;
}

async function stopWorkers(workers) {
  await Promise.all(
    workers.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(killer);
    }),
  );
}

/**
 * A `stepwise server` process on the database at `url`, for workers that reach it through the
 * remote World (STEPWISE_WORLD=http://…): its URL, secret and a `stop()`.
 */
async function startStepwiseServer(url) {
  const secret = randomBytes(24).toString("hex");
  const child = spawn(process.execPath, [cli, "server", "--port", "0"], {
    cwd: root,
    env: {
      ...process.env,
      STEPWISE_WORLD: "postgres",
      STEPWISE_POSTGRES_URL: url,
      STEPWISE_HTTP_SECRET: secret,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const serverUrl = await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`stepwise server exited (${code}):\n${output}`)));
  });
  return {
    env: { STEPWISE_WORLD: serverUrl, STEPWISE_HTTP_SECRET: secret },
    stop: () => stopWorkers([{ child }]),
  };
}

/**
 * One measured batch with `count` fresh workers on a fresh database; CPU per 1,000 steps too.
 * With `remote`, the workers reach the database through a `stepwise server` (the remote World).
 */
async function measureOnce(
  server,
  name,
  { count, runs, steps, stepMs = 0, execArgv = [], args = [], remote = false },
) {
  const url = await server.createDatabase(name);
  const client = await spawnDriver(clientFile, { env: { BENCH_PG_URL: url }, label: "stepwise-client" });
  if (client.error) throw new Error(client.error);
  const stepwiseServer = remote ? await startStepwiseServer(url) : undefined;
  const workers = await startWorkers(count, url, stepwiseServer?.env ?? {}, execArgv, args);
  try {
    await client.call("throughput", { runs: 50, steps: 5 }); // warm-up, excluded
    const pg0 = postgresCpuSeconds();
    const workers0 = workers.map((w) => processCpuSeconds(w.pid));
    const client0 = processCpuSeconds(client.pid);
    const fromUs = monotonicUs();
    const result = await client.call("throughput", { runs, steps, stepMs });
    const window = { fromUs, toUs: monotonicUs() };
    const perThousand = 1000 / (runs * steps);
    const cpu = {
      postgres: (postgresCpuSeconds() - pg0) * perThousand,
      workers: workers.reduce((sum, w, i) => sum + processCpuSeconds(w.pid) - workers0[i], 0) * perThousand,
      client: (processCpuSeconds(client.pid) - client0) * perThousand,
    };
    return { stepsPerSecond: result.stepsPerSecond, cpu, window };
  } finally {
    await stopWorkers(workers);
    await stepwiseServer?.stop();
    await client.close();
  }
}

/**
 * Throughput with each worker count, `rounds` times, interleaved; medians per count. With
 * `profileDir`, one extra (excluded) batch runs a single worker under `node --cpu-prof`.
 */
export async function workerThroughput(server, { counts, runs, steps, rounds, say, profileDir }) {
  const samples = new Map(counts.map((c) => [c, []]));
  let profiled;
  for (let round = 0; round < rounds; round++) {
    for (const count of counts) {
      const sample = await measureOnce(server, `workers_${count}_${round}`, { count, runs, steps });
      samples.get(count).push(sample);
      say?.(`  workers=${count} round ${round + 1}: ${Math.round(sample.stepsPerSecond)} steps/s`);
    }
  }
  if (profileDir) {
    const execArgv = ["--cpu-prof", `--cpu-prof-dir=${profileDir}`];
    profiled = await measureOnce(server, "workers_profiled", { count: 1, runs, steps, execArgv });
  }
  const med = (list, pick) => median(list.map(pick));
  const byCount = counts.map((count) => {
    const list = samples.get(count);
    return {
      workers: count,
      stepsPerSecond: med(list, (s) => s.stepsPerSecond),
      samples: list.map((s) => s.stepsPerSecond),
      // CPU seconds per 1,000 steps (median over rounds): where the machine's two cores went.
      cpuPerThousandSteps: {
        postgres: med(list, (s) => s.cpu.postgres),
        workers: med(list, (s) => s.cpu.workers),
        client: med(list, (s) => s.cpu.client),
      },
    };
  });
  // The profiled batch's time window, so its profile can be cut to the batch alone.
  return Object.assign(byCount, { profiledWindow: profiled?.window, profiledSteps: runs * steps });
}

/**
 * Issue 14's spread: `runs` runs of `steps` steps of `stepMs` each on 1 worker and on `workers`
 * workers, every worker with `--concurrency <slots>`, `rounds` times; the ratio of the two
 * throughputs is taken within each round (the machine drifts between rounds), median over rounds.
 */
export async function workerSpread(
  server,
  { workers, runs, steps, stepMs, slots, rounds, say, remote = false },
) {
  const ratios = [];
  const one = [];
  const many = [];
  for (let round = 0; round < rounds; round++) {
    const params = { runs, steps, stepMs, args: ["--concurrency", String(slots)], remote };
    const tag = remote ? "remote_" : "";
    const a = await measureOnce(server, `spread_${tag}1_${round}`, { ...params, count: 1 });
    const b = await measureOnce(server, `spread_${tag}${workers}_${round}`, { ...params, count: workers });
    one.push(a.stepsPerSecond);
    many.push(b.stepsPerSecond);
    ratios.push(b.stepsPerSecond / a.stepsPerSecond);
    say?.(
      `  spread round ${round + 1}: 1 worker ${a.stepsPerSecond.toFixed(1)} steps/s, ${workers} workers ${b.stepsPerSecond.toFixed(1)} steps/s: ${(b.stepsPerSecond / a.stepsPerSecond).toFixed(2)}×`,
    );
  }
  return {
    world: remote ? "remote" : "postgres",
    workers,
    runs,
    steps,
    stepMs,
    slots,
    ratio: median(ratios),
    ratios,
    oneStepsPerSecond: median(one),
    manyStepsPerSecond: median(many),
  };
}

const readLog = (file) => {
  try {
    return readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split(" ").map(Number));
  } catch {
    return [];
  }
};

/** SIGKILL the worker driving a run; time until another worker runs the run's next step. */
export async function failover(server, { repeats, say }) {
  const samples = [];
  for (let r = 0; r < repeats; r++) {
    const url = await server.createDatabase(`failover_${r}`);
    const dir = mkdtempSync(join(tmpdir(), "stepwise-failover-"));
    const log = join(dir, "steps.log");
    const client = await spawnDriver(clientFile, { env: { BENCH_PG_URL: url }, label: "stepwise-client" });
    if (client.error) throw new Error(client.error);
    const workers = await startWorkers(2, url, { BENCH_STEP_LOG: log });
    try {
      const runId = await client.call("startOne", { n: 2_000, stepMs: 10 });
      while (readLog(log).length < 20) await sleep(2);
      const victim = readLog(log).at(-1)[0];
      const killedAt = performance.timeOrigin + performance.now();
      workers.find((w) => w.pid === victim).child.kill("SIGKILL");
      const deadline = Date.now() + 60_000;
      const continued = () => readLog(log).find(([pid, at]) => pid !== victim && at > killedAt);
      let next = continued();
      for (; next === undefined; next = continued()) {
        if (Date.now() > deadline)
          throw new Error(`failover: no other worker continued run ${runId} within 60 s`);
        await sleep(2);
      }
      samples.push(next[1] - killedAt);
      say?.(`  failover ${r + 1}: ${Math.round(next[1] - killedAt)} ms`);
    } finally {
      await stopWorkers(workers);
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { medianMs: median(samples), samples };
}
