/**
 * The Python SDK's per-step overhead beside its peers (issue 15), in one run: `npm run build &&
 * node bench/python.mjs` (`ROUNDS=`, `STEPS=`, `WARMUP_STEPS=` to change the plan), or as part of `npm run bench`.
 *
 * Every engine runs the same workflow, STEPS sequential no-op steps, one run at a time, timed from
 * just before its start call to the moment its caller sees it completed, divided by STEPS:
 * - py-sqlite: a Stepwise Python worker (`make_worker`, in the driver process
 *   bench/engines/python.py) against `stepwise server` on the embedded SQLite World
 *   (STEPWISE_WORLD=local behind the server); the run started and awaited through the Python client
 *   (`Run.wait()`, the server's result long poll);
 * - py-pg: the same against a `stepwise server` on PostgreSQL;
 * - dbos-py: DBOS Transact for Python (`dbos`, pinned in peers-setup/python.mjs) on its own database
 *   of the same PostgreSQL server, in-process as DBOS runs (`start_workflow_async`, `get_result`);
 * - ts-pg-server: for reference, a TypeScript `stepwise worker` process through the same server as
 *   py-pg (the path a Python worker takes); ts-pg-direct: one on the database directly. Their runs
 *   are started on the database and seen completed by reading the run's record every 1 ms.
 * Each engine is opened once (its own database, its own server) and warmed up: its driver's two
 * short runs, then runs of STEPS steps until WARMUP_STEPS (default 1,500) have run, unmeasured,
 * since a freshly started server and worker are slower for their first thousand or so steps
 * (likely V8 optimising the server's hot code and SQLite's write-ahead log growing); the first
 * of those runs is reported beside the rest as the cold figure. Rounds are then interleaved (every
 * engine once per round, the order rotating), medians are over rounds and ratios are taken within
 * a round. Python drivers also report their own CPU time per step.
 * PostgreSQL 15 with fsync and synchronous_commit on (lib/postgres.mjs). `ENGINES=py-sqlite,dbos-py`
 * runs only those; BENCH_SERVER_NODE_FLAGS adds Node flags to the servers it starts (e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`, to see where a server's time goes). Asserts nothing.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnDriver } from "./lib/ipc.mjs";
import { spawnLineDriver } from "./lib/line-driver.mjs";
import { startPostgres } from "./lib/postgres.mjs";
import { median, table } from "./lib/stats.mjs";
import { ensurePythonPeers, PYTHON_PEERS } from "./peers-setup/python.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const cli = join(root, "dist/cli/index.js");

export const PYTHON_ENGINES = {
  "py-sqlite": "Stepwise Python worker, server on SQLite (embedded World)",
  "py-pg": "Stepwise Python worker, server on PostgreSQL",
  "dbos-py": `DBOS Transact for Python ${PYTHON_PEERS.dbos}, PostgreSQL`,
  "ts-pg-server": "Stepwise TypeScript worker, server on PostgreSQL",
  "ts-pg-direct": "Stepwise TypeScript worker, PostgreSQL directly",
};

/** CPU time (ms) of every thread of process `pid` so far, from /proc (ns resolution). */
function cpuMs(pid) {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`))
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    return ns / 1e6;
  } catch {
    return Number.NaN;
  }
}

/** `stepwise server --port 0` with `env`; resolves { child, url } once it listens. */
export async function startServer(env, cwd) {
  const child = spawn(
    process.execPath,
    [...(process.env.BENCH_SERVER_NODE_FLAGS ?? "").split(" ").filter(Boolean), cli, "server", "--port", "0"],
    {
      cwd,
      env: { ...process.env, STEPWISE_WORKER: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const found = /listening on (http:\/\/\S+)/.exec(output);
      if (found) resolve(found[1]);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`stepwise server exited (${code}):\n${output.slice(-2000)}`)),
    );
  });
  return { child, url };
}

export async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await gone;
  clearTimeout(killer);
}

/**
 * Runs the comparison on `pg` (a server from lib/postgres.mjs; null: the SQLite engine only).
 * Returns { plan, engines: { id: { info?, error?, perStepMs: [], cpuPerStepMs: [] } }, ratios }.
 */
export async function pythonSteps(
  pg,
  { rounds = 5, steps = 300, warmupSteps = 1500, only, say = () => {}, loud = say } = {},
) {
  const peers = ensurePythonPeers(say);
  const secret = randomBytes(24).toString("hex");
  const dir = mkdtempSync(join(tmpdir(), "stepwise-bench-python-"));
  const engines = Object.fromEntries(
    Object.keys(PYTHON_ENGINES).map((id) => [
      id,
      { perStepMs: [], cpuPerStepMs: [], serverCpuPerStepMs: [], coldPerStepMs: undefined },
    ]),
  );
  const serverOf = new Map(); // engine id -> the pid of the stepwise server it goes through
  const drivers = new Map();
  const servers = [];
  // Servers go with this process however it ends (the normal path stops them in `finally`).
  const killServers = () => {
    for (const child of servers) child.kill("SIGKILL");
  };
  process.on("exit", killServers);
  const fail = (id, message) => {
    engines[id].error = message;
    loud(`PYTHON BENCH: ${id} cannot run: ${message.slice(0, 1500)}`);
  };

  async function open(id, make) {
    if (only && !only.includes(id)) return;
    try {
      const driver = await make();
      if (driver.error) throw new Error(driver.error);
      await driver.call("warmUp", {}, 300_000);
      for (let done = 0; done < warmupSteps; done += steps) {
        const result = await driver.call("sequential", { n: steps }, 600_000);
        if (done === 0) engines[id].coldPerStepMs = result.perStepMs;
      }
      engines[id].info = driver.info;
      drivers.set(id, driver);
    } catch (error) {
      fail(id, error.message);
    }
  }
  const server = async (env) => {
    const started = await startServer({ STEPWISE_HTTP_SECRET: secret, ...env }, dir);
    servers.push(started.child);
    return started;
  };
  const python = (kind, env) =>
    spawnLineDriver(peers[kind].python, [join(root, "bench/engines/python.py"), kind], {
      env,
      cwd: root,
      label: kind,
    });

  try {
    if (!peers.stepwise.ok) fail("py-sqlite", peers.stepwise.error);
    else
      await open("py-sqlite", async () => {
        const { url, child } = await server({
          STEPWISE_WORLD: "local",
          STEPWISE_DATA_DIR: join(dir, "sqlite-world"),
        });
        serverOf.set("py-sqlite", child.pid);
        return python("stepwise", { STEPWISE_WORLD: url, STEPWISE_HTTP_SECRET: secret });
      });
    if (!pg) {
      for (const id of ["py-pg", "dbos-py", "ts-pg-server", "ts-pg-direct"])
        fail(id, "PostgreSQL did not start");
    } else {
      const stepwiseDb = await pg.createDatabase("python_stepwise");
      let pgServerUrl;
      try {
        const started = await server({ STEPWISE_WORLD: "postgres", STEPWISE_POSTGRES_URL: stepwiseDb });
        pgServerUrl = started.url;
        serverOf.set("py-pg", started.child.pid);
        serverOf.set("ts-pg-server", started.child.pid);
      } catch (error) {
        for (const id of ["py-pg", "ts-pg-server"]) fail(id, error.message);
      }
      if (pgServerUrl) {
        if (!peers.stepwise.ok) fail("py-pg", peers.stepwise.error);
        else
          await open("py-pg", () =>
            python("stepwise", { STEPWISE_WORLD: pgServerUrl, STEPWISE_HTTP_SECRET: secret }),
          );
        await open("ts-pg-server", () =>
          spawnDriver(join(root, "bench/engines/stepwise-worker.mjs"), {
            env: { BENCH_PG_URL: stepwiseDb, BENCH_WORKER_WORLD: pgServerUrl, STEPWISE_HTTP_SECRET: secret },
            label: "ts-pg-server",
          }),
        );
      }
      const directDb = await pg.createDatabase("python_ts_direct");
      await open("ts-pg-direct", () =>
        spawnDriver(join(root, "bench/engines/stepwise-worker.mjs"), {
          env: { BENCH_PG_URL: directDb, BENCH_WORKER_WORLD: "postgres" },
          label: "ts-pg-direct",
        }),
      );
      if (!peers.dbos.ok) fail("dbos-py", peers.dbos.error);
      else {
        const dbosDb = await pg.createDatabase("python_dbos");
        await open("dbos-py", () => python("dbos", { BENCH_PG_URL: dbosDb }));
      }
    }

    const ids = [...drivers.keys()];
    for (let round = 0; round < rounds; round++) {
      const order = ids.map((_, i) => ids[(i + round) % ids.length]);
      const line = [];
      for (const id of order) {
        if (!drivers.has(id)) continue; // failed in an earlier round (said then)
        try {
          const serverPid = serverOf.get(id);
          const cpu0 = serverPid === undefined ? undefined : cpuMs(serverPid);
          const result = await drivers.get(id).call("sequential", { n: steps }, 600_000);
          engines[id].perStepMs[round] = result.perStepMs;
          if (cpu0 !== undefined) engines[id].serverCpuPerStepMs[round] = (cpuMs(serverPid) - cpu0) / steps;
          if (result.cpuPerStepMs !== undefined) engines[id].cpuPerStepMs[round] = result.cpuPerStepMs;
          line.push(`${id} ${result.perStepMs.toFixed(3)}`);
        } catch (error) {
          fail(id, error.message);
          await drivers.get(id).close(5_000);
          drivers.delete(id);
        }
      }
      say(`  python round ${round + 1}/${rounds}: ms/step ${line.join(", ")}`);
    }
  } finally {
    for (const driver of drivers.values()) await driver.close().catch(() => {});
    for (const child of servers) await stopChild(child);
    process.off("exit", killServers);
    rmSync(dir, { recursive: true, force: true });
  }

  // Within-round ratios, then their median.
  const ratio = (a, b) => {
    const values = [];
    for (let r = 0; r < rounds; r++) {
      const x = engines[a].perStepMs[r];
      const y = engines[b].perStepMs[r];
      if (Number.isFinite(x) && Number.isFinite(y)) values.push(x / y);
    }
    return values.length ? median(values) : undefined;
  };
  const ratios = {
    "py-pg/dbos-py": ratio("py-pg", "dbos-py"),
    "py-pg/ts-pg-server": ratio("py-pg", "ts-pg-server"),
    "py-pg/ts-pg-direct": ratio("py-pg", "ts-pg-direct"),
    "py-sqlite/py-pg": ratio("py-sqlite", "py-pg"),
  };
  return { plan: { rounds, steps, warmupSteps }, engines, ratios, dbosVersion: PYTHON_PEERS.dbos };
}

const ms = (v) => (Number.isFinite(v) ? v.toFixed(3) : "—");
const times = (v) => (v === undefined ? "—" : `${v.toFixed(2)}×`);

const medianOf = (figures, id, field) => {
  const values = figures.engines[id][field].filter(Number.isFinite);
  return values.length ? median(values) : undefined;
};

/** Issue 15's targets: [name, measured, met?] (met undefined: not measured). */
export function pythonTargets(figures) {
  const sqlite = medianOf(figures, "py-sqlite", "perStepMs");
  const dbos = figures.ratios["py-pg/dbos-py"];
  return [
    [
      "issue 15: per-step overhead of a Python worker on the embedded World ≤ 1 ms",
      sqlite === undefined ? "—" : `${ms(sqlite)} ms`,
      sqlite === undefined ? undefined : sqlite <= 1,
    ],
    [
      "issue 15: Python worker ahead of DBOS's Python SDK on the same PostgreSQL",
      dbos === undefined ? "—" : `${times(dbos)} DBOS's time per step`,
      dbos === undefined ? undefined : dbos < 1,
    ],
  ];
}

/** Where a Python step's time goes, for the report's notes on missed targets. */
export function pythonMissNote(figures) {
  const step = medianOf(figures, "py-sqlite", "perStepMs");
  const python = medianOf(figures, "py-sqlite", "cpuPerStepMs");
  const server = medianOf(figures, "py-sqlite", "serverCpuPerStepMs");
  return (
    `**Python worker on SQLite (missed).** A step took ${ms(step)} ms: the Python process spent ${ms(python)} ms ` +
    `of CPU on it (worker and client) and the stepwise server ${ms(server)} ms (one events/append: HTTP, ` +
    "validation, the local World's transaction), one after the other, since each waits for the other's answer. " +
    "The server's share is the larger: the same append in-process (Stepwise local, above) costs a fraction of it."
  );
}

/** The markdown section of the report for pythonSteps' figures. */
export function renderPython(figures) {
  const { plan, engines, ratios } = figures;
  const cell = (id, field) => (engines[id][field].length ? ms(medianOf(figures, id, field)) : "—");
  const verdict = (ok) => (ok === undefined ? "not measured" : ok ? "met" : "**MISSED**");
  const lines = [
    `## The Python SDK (issue 15): ${plan.steps} sequential no-op steps`,
    "",
    `Medians over ${plan.rounds} interleaved rounds; one run at a time, start to completion ÷ ${plan.steps}. Each engine first ran ${plan.warmupSteps ?? 0} steps unmeasured (its first run of them is the "cold" column: a process just started). PostgreSQL 15, synchronous_commit on. CPU per step: the Python process's own (for Stepwise, the worker and the client in it; for DBOS, everything but PostgreSQL), and the stepwise server's (all its threads) while the run went through it.`,
    "",
    table(
      ["engine", "ms per step", "cold, ms per step", "Python CPU per step, ms", "server CPU per step, ms"],
      Object.entries(PYTHON_ENGINES).map(([id, label]) => [
        label,
        engines[id].perStepMs.length ? cell(id, "perStepMs") : "n/a",
        ms(engines[id].coldPerStepMs),
        cell(id, "cpuPerStepMs"),
        cell(id, "serverCpuPerStepMs"),
      ]),
    ),
    "",
    table(
      ["ratio of times per step (within a round, median)", "value"],
      [
        [
          "Python on PostgreSQL ÷ DBOS for Python (below 1: Stepwise is faster)",
          times(ratios["py-pg/dbos-py"]),
        ],
        [
          "Python ÷ TypeScript worker, both through the server on PostgreSQL",
          times(ratios["py-pg/ts-pg-server"]),
        ],
        [
          "Python (through the server) ÷ TypeScript worker on PostgreSQL directly",
          times(ratios["py-pg/ts-pg-direct"]),
        ],
        ["Python: SQLite ÷ PostgreSQL behind the server", times(ratios["py-sqlite/py-pg"])],
      ],
    ),
    "",
    table(
      ["target", "measured", "verdict"],
      pythonTargets(figures).map(([name, measured, ok]) => [name, measured, verdict(ok)]),
    ),
  ];
  for (const [id, engine] of Object.entries(engines))
    if (engine.error) lines.push("", `- ${id}: ${engine.error.split("\n")[0]}`);
  return lines.join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const pg = await startPostgres().catch((error) => {
    console.error(`PostgreSQL did not start: ${error.message}`);
    return null;
  });
  try {
    const figures = await pythonSteps(pg, {
      rounds: Number(process.env.ROUNDS ?? 5),
      steps: Number(process.env.STEPS ?? 300),
      warmupSteps: Number(process.env.WARMUP_STEPS ?? 1500),
      only: process.env.ENGINES?.split(","),
      say: (text) => console.error(text),
    });
    console.log(renderPython(figures));
  } finally {
    await pg?.stop();
  }
}
