/**
 * The remote World against the database directly, in one run (`npm run build && node
 * bench/remote.mjs`; `ROUNDS=`, `STEPS=`, `POLLS=` to change the sizes). On a throwaway
 * PostgreSQL 15 (fsync and synchronous_commit on), a dedicated `stepwise worker` process runs the
 * bench workflow either on the database itself (STEPWISE_WORLD=postgres) or through a `stepwise
 * server` on the same database (STEPWISE_WORLD=http://…); the runs are started by this process on
 * the database. Rounds alternate the two, and the report gives medians and their ratios:
 * - per-step overhead: one run of STEPS sequential no-op steps, start to completion, per step;
 * - start to first step: a one-step run, from start() to the moment the step body runs (the step
 *   writes its epoch time to a log; same machine, same clock);
 * - long polls: POLLS registered workers each holding a `tasks/lease` long poll on the server at
 *   once (one connection each), on a fresh server after the rounds: its resident memory before and
 *   while they wait (`ROUNDS=0` measures only this).
 * Targets (issue 14): remote per-step overhead at most 2x direct; start to first step at most 3 ms
 * more; 1,000 long polls in under 100 MB. Prints the report; asserts nothing.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { configure, shutdown, start } from "../dist/api/index.js";
import { workflowReference } from "../dist/internal.js";
import { createPostgresWorld } from "../dist/worlds/postgres/index.js";
import { startPostgres } from "./lib/postgres.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const STEPS = Number(process.env.STEPS ?? 300);
const FIRST_STEP_SAMPLES = Number(process.env.FIRST ?? 15);
const POLLS = Number(process.env.POLLS ?? 1000);
const root = fileURLToPath(new URL("../", import.meta.url));
const cli = join(root, "dist/cli/index.js");
const secret = randomBytes(24).toString("hex");
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
process.env.STEPWISE_WORKER = "0";
const sequential = workflowReference("workflow//bench/workflows/stepwise.js//sequential");

function spawnCli(args, env, readyText) {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: root,
    env: { ...process.env, STEPWISE_WORKER: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const ready = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      if (output.includes(readyText)) resolve(output);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${args[0]} exited (${code}):\n${output}`)));
  });
  return { child, ready };
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await gone;
  clearTimeout(killer);
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
}

const pgServer = await startPostgres();
const url = await pgServer.createDatabase("bench_remote");
const world = await createPostgresWorld({ connectionString: url });
configure({ world });
const dir = mkdtempSync(join(tmpdir(), "stepwise-bench-remote-"));
const stepLog = join(dir, "steps.log");

const server = spawnCli(
  ["server", "--port", "0"],
  { STEPWISE_WORLD: "postgres", STEPWISE_POSTGRES_URL: url, STEPWISE_HTTP_SECRET: secret },
  "listening on",
);
const serverUrl = /listening on (http:\/\/\S+)/.exec(await server.ready)?.[1];

/** A worker process on `kind` (postgres directly, or the server). */
async function worker(kind) {
  const env =
    kind === "direct"
      ? { STEPWISE_WORLD: "postgres", STEPWISE_POSTGRES_URL: url }
      : { STEPWISE_WORLD: serverUrl, STEPWISE_HTTP_SECRET: secret };
  const w = spawnCli(
    ["worker", "bench/workflows/stepwise.js", "--quiet"],
    { ...env, BENCH_STEP_LOG: stepLog },
    "stepwise worker ",
  );
  await w.ready;
  return w.child;
}

async function waitDone(runId) {
  for (;;) {
    const run = await world.runs.get(runId);
    if (run.status === "completed") return;
    if (run.status === "failed" || run.status === "cancelled") throw new Error(`run ${runId} ${run.status}`);
    await sleep(2);
  }
}

async function perStep() {
  const t0 = performance.now();
  const run = await start(sequential, [STEPS]);
  await waitDone(run.runId);
  return ((performance.now() - t0) * 1000) / STEPS;
}

async function firstStep() {
  const samples = [];
  for (let i = 0; i < FIRST_STEP_SAMPLES; i++) {
    writeFileSync(stepLog, "");
    const at = performance.timeOrigin + performance.now();
    const run = await start(sequential, [1]);
    await waitDone(run.runId);
    const [line] = readFileSync(stepLog, "utf8").trim().split("\n");
    samples.push(Number(line?.split(" ")[1]) - at);
  }
  return median(samples);
}

const figures = { direct: { perStep: [], first: [] }, remote: { perStep: [], first: [] } };
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of round % 2 === 0 ? ["direct", "remote"] : ["remote", "direct"]) {
    const child = await worker(kind);
    await perStep(); // warm-up: the worker's first run compiles and caches
    figures[kind].perStep.push(await perStep());
    figures[kind].first.push(await firstStep());
    await stop(child);
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
}

// Long polls: POLLS workers registered, each with one long poll waiting at once, on a fresh
// server (the target is what holding them costs, not the heap the rounds above left behind).
await stop(server.child);
const fresh = spawnCli(
  ["server", "--port", "0"],
  { STEPWISE_WORLD: "postgres", STEPWISE_POSTGRES_URL: url, STEPWISE_HTTP_SECRET: secret },
  "listening on",
);
const freshUrl = /listening on (http:\/\/\S+)/.exec(await fresh.ready)?.[1];
const base = `${freshUrl}/stepwise/protocol/v1`;
const headers = { authorization: `Bearer ${secret}`, "content-type": "application/json" };
const agent = new Agent({ keepAlive: true, maxSockets: POLLS + 10 });
const call = (path, body) =>
  new Promise((resolve, reject) => {
    const req = request(`${base}/${path}`, { method: "POST", headers, agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        text += chunk;
      });
      res.on("end", () => resolve(text === "" ? {} : JSON.parse(text)));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
await sleep(500);
const before = rssMb(fresh.child.pid);
const ids = [];
for (let i = 0; i < POLLS; i++) {
  ids.push(
    (await call("workers/register", { language: "bench", workflows: [{ name: "workflow//none//none" }] }))
      .worker.workerId,
  );
}
const polls = ids.map((workerId) =>
  call("tasks/lease", { workerId, limit: 1, leaseMs: 1000, waitMs: 30_000 }),
);
let waiting = 0;
for (let i = 0; i < 100 && waiting < POLLS; i++) {
  await sleep(100);
  waiting = (await (await fetch(`${freshUrl}/health`)).json()).waiting;
}
const holding = rssMb(fresh.child.pid);
await stop(fresh.child);
await Promise.allSettled(polls);
agent.destroy();

await shutdown();
await pgServer.stop();
rmSync(dir, { recursive: true, force: true });

const direct = { perStep: median(figures.direct.perStep), first: median(figures.direct.first) };
const remote = { perStep: median(figures.remote.perStep), first: median(figures.remote.first) };
const timed = ROUNDS > 0;
const lines = [
  `Remote World vs PostgreSQL directly (${ROUNDS} rounds, medians; PostgreSQL 15, synchronous_commit on)`,
  "",
  "| figure | direct | remote | ratio / difference | target |",
  "| --- | --- | --- | --- | --- |",
  timed &&
    `| per-step overhead (${STEPS} sequential no-op steps) | ${direct.perStep.toFixed(0)} µs | ${remote.perStep.toFixed(0)} µs | ${(remote.perStep / direct.perStep).toFixed(2)}x | <= 2x |`,
  timed &&
    `| start to first step | ${direct.first.toFixed(1)} ms | ${remote.first.toFixed(1)} ms | +${(remote.first - direct.first).toFixed(1)} ms | <= +3 ms |`,
  `| server memory, ${waiting} of ${POLLS} long polls waiting (a fresh server) | ${before.toFixed(0)} MB idle | ${holding.toFixed(0)} MB | +${(holding - before).toFixed(0)} MB | < 100 MB |`,
];
console.log(lines.filter((line) => line !== false).join("\n"));
