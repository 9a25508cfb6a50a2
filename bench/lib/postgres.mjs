// A throwaway PostgreSQL 15 server for the benchmarks: the recipe of test/helpers/postgres.ts
// (DESIGN.md §9) in plain JavaScript. initdb (as the `postgres` user when we are root) into a
// temporary directory, start on a random free port with the default durability (fsync on,
// synchronous_commit=on), and return { url, createDatabase(name), stop() }. Throws, with the
// server's log, when it cannot start.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);
const PG_BIN = process.env.STEPWISE_PG_BIN ?? "/usr/lib/postgresql/15/bin";
const isRoot = process.getuid?.() === 0;

async function pgCommand(binary, args) {
  const file = join(PG_BIN, binary);
  const [command, argv] = isRoot ? ["runuser", ["-u", "postgres", "--", file, ...args]] : [file, args];
  return (await run(command, argv, { maxBuffer: 16 * 1024 * 1024 })).stdout;
}

function stopNow(dir) {
  if (existsSync(join(dir, "data", "postmaster.pid"))) {
    const file = join(PG_BIN, "pg_ctl");
    const args = ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"];
    spawnSync(isRoot ? "runuser" : file, isRoot ? ["-u", "postgres", "--", file, ...args] : args, {
      stdio: "ignore",
    });
  }
  rmSync(dir, { recursive: true, force: true });
}

const tail = (file, lines) => {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
};

/** Starts a server; `settings` are extra `-c name=value` pairs (max_connections etc.). */
export async function startPostgres(settings = {}) {
  if (!existsSync(join(PG_BIN, "pg_ctl")))
    throw new Error(`PostgreSQL server binaries not found in ${PG_BIN} (apt-get install -y postgresql).`);
  if (isRoot && spawnSync("id", ["-u", "postgres"]).status !== 0)
    execFileSync("useradd", ["--system", "--no-create-home", "postgres"], { stdio: "pipe" });
  const dir = mkdtempSync(join(tmpdir(), "stepwise-bench-pg-"));
  if (isRoot) execFileSync("chown", ["-R", "postgres:", dir]);
  await pgCommand("initdb", [
    "-D",
    join(dir, "data"),
    "-U",
    "postgres",
    "--auth=trust",
    "-E",
    "UTF8",
    "--locale=C.UTF-8",
    "--no-sync",
  ]);
  const options = { max_connections: 400, synchronous_commit: "on", fsync: "on", ...settings };
  let port = 0;
  for (let attempt = 0; attempt < 8 && port === 0; attempt++) {
    const candidate = 20_000 + Math.floor(Math.random() * 40_000);
    const flags = [`-c listen_addresses=127.0.0.1`, `-p ${candidate}`, `-k ${dir}`]
      .concat(Object.entries(options).map(([k, v]) => `-c ${k}=${v}`))
      .join(" ");
    try {
      await pgCommand("pg_ctl", [
        "-D",
        join(dir, "data"),
        "-l",
        join(dir, "log"),
        "-w",
        "-t",
        "60",
        "-o",
        flags,
        "start",
      ]);
      port = candidate;
    } catch (error) {
      if (!/could not (bind|create listen socket)|Address already in use/i.test(tail(join(dir, "log"), 20))) {
        const log = tail(join(dir, "log"), 30);
        stopNow(dir);
        throw new Error(`PostgreSQL did not start: ${error.message}\n${log}`);
      }
    }
  }
  if (port === 0) {
    stopNow(dir);
    throw new Error("PostgreSQL did not find a free port in 8 tries.");
  }
  const onExit = () => stopNow(dir);
  process.on("exit", onExit);
  // Ctrl-C or a kill does not run "exit" handlers: stop the server first, then go.
  const onSignal = (signal) => {
    stopNow(dir);
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      process.off("exit", onExit);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      try {
        await pgCommand("pg_ctl", ["-D", join(dir, "data"), "-m", "fast", "-w", "stop"]);
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
