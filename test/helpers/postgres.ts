/**
 * A throwaway PostgreSQL 15 server for tests (DESIGN.md §9). `startPostgres()` copies a cached,
 * initdb'd cluster into a fresh temporary directory, starts it on a random free port (retrying on
 * another port when one is taken) with the default durability (`fsync` and `synchronous_commit` on),
 * and returns its URL with `createDatabase()`, `restart()` and `stop()`. When the server cannot
 * start it THROWS, with the server's log: Postgres tests fail, they never skip.
 *
 * One server per test file (not one per run from a vitest globalSetup): files run in parallel in
 * separate processes, a file that restarts its server (the LISTEN reconnect tests) disturbs nobody
 * else, and no shared configuration is needed. `initdb` runs once per machine (about 2.5 s) into
 * a template directory under the temp dir; each server starts from a copy of it (about 0.5 s),
 * and each test file can make fresh databases on its server (`createDatabase`). initdb refuses to
 * run as root, so as root every server command runs as the `postgres` user (created if missing).
 * The helper imports nothing from vitest: it works in `beforeAll` and in child processes alike
 * (pass `url` to them in STEPWISE_POSTGRES_URL).
 *
 * Servers whose owning process died without stopping them (a killed test run) are stopped and
 * removed by the next `startPostgres()`; a normal process exit stops this process's servers.
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

export const PG_BIN = process.env.STEPWISE_PG_BIN ?? "/usr/lib/postgresql/15/bin";
const PREFIX = "stepwise-pg-";
const TEMPLATE = join(tmpdir(), "stepwise-pg15-template");

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, TCP on 127.0.0.1) */
  readonly url: string;
  readonly port: number;
  /** The cluster's directory (data, log, socket). */
  readonly dir: string;
  /** Creates an empty database and returns its URL (a unique name unless one is given). */
  createDatabase(name?: string): Promise<string>;
  /**
   * Stops the server and starts it again on the same port. `fast` (the default) is a clean
   * shutdown: connections are cut and a checkpoint is written. `immediate` is a crash: the server
   * quits without a checkpoint and the next start runs crash recovery from the WAL.
   */
  restart(mode?: "fast" | "immediate"): Promise<void>;
  /** Stops the server and deletes its files. Idempotent. */
  stop(): Promise<void>;
  /** The last lines of the server's log, for error messages. */
  logTail(lines?: number): string;
}

const isRoot = process.getuid?.() === 0;
const live = new Set<string>(); // cluster directories this process started

/** Runs a server binary, as the postgres user when we are root. */
async function pgCommand(binary: string, args: string[]): Promise<string> {
  const file = join(PG_BIN, binary);
  const [command, argv] = isRoot ? ["runuser", ["-u", "postgres", "--", file, ...args]] : [file, args];
  const { stdout } = await run(command, argv, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

function ensurePostgresUser(): void {
  if (!isRoot) return;
  if (spawnSync("id", ["-u", "postgres"]).status === 0) return;
  execFileSync("useradd", ["--system", "--no-create-home", "postgres"], { stdio: "pipe" });
}

function chownToPostgres(path: string): void {
  if (isRoot) execFileSync("chown", ["-R", "postgres:", path], { stdio: "pipe" });
}

/** initdb once into a template directory (atomically renamed into place: parallel files may race). */
async function ensureTemplate(): Promise<void> {
  if (existsSync(join(TEMPLATE, "PG_VERSION"))) return;
  const building = `${TEMPLATE}.${process.pid}.${randomBytes(4).toString("hex")}`;
  execFileSync("mkdir", ["-p", "-m", "700", building]);
  chownToPostgres(building);
  try {
    await pgCommand("initdb", [
      "-D",
      building,
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
      "--locale=C.UTF-8",
      "--no-sync",
    ]);
    try {
      renameSync(building, TEMPLATE);
    } catch {
      // Another process renamed its template into place first: use that one.
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  if (!existsSync(join(TEMPLATE, "PG_VERSION"))) throw new Error(`initdb did not produce ${TEMPLATE}`);
}

function ownerAlive(dir: string): boolean {
  try {
    const pid = Number(readFileSync(join(dir, "owner.pid"), "utf8"));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Stops and removes clusters left behind by test processes that died without stopping them. */
function reapOrphans(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), name);
    if (!existsSync(join(dir, "owner.pid")) || ownerAlive(dir)) continue;
    stopNow(dir);
  }
}

/** Synchronous immediate stop and removal (exit handler, orphan reaping). */
function stopNow(dir: string): void {
  const data = join(dir, "data");
  if (existsSync(join(data, "postmaster.pid"))) {
    const file = join(PG_BIN, "pg_ctl");
    const args = ["-D", data, "-m", "immediate", "-w", "stop"];
    spawnSync(isRoot ? "runuser" : file, isRoot ? ["-u", "postgres", "--", file, ...args] : args, {
      stdio: "ignore",
    });
  }
  rmSync(dir, { recursive: true, force: true });
  live.delete(dir);
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const dir of [...live]) stopNow(dir);
  });
}

function randomPort(): number {
  return 20_000 + Math.floor(Math.random() * 40_000);
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function pgCtlStart(dir: string, port: number): Promise<void> {
  const options = [
    "-c listen_addresses=127.0.0.1",
    `-p ${port}`,
    `-k ${dir}`,
    "-c max_connections=300",
    "-c synchronous_commit=on",
  ].join(" ");
  await pgCommand("pg_ctl", [
    "-D",
    join(dir, "data"),
    "-l",
    join(dir, "log"),
    "-w",
    "-t",
    "60",
    "-o",
    options,
    "start",
  ]);
}

/**
 * Starts a throwaway server. Throws (with the server log) when PostgreSQL is not installed or does
 * not start: install it with `apt-get install -y postgresql`, or point STEPWISE_PG_BIN at its bin/.
 */
export async function startPostgres(): Promise<PostgresServer> {
  if (!existsSync(join(PG_BIN, "pg_ctl"))) {
    throw new Error(
      `PostgreSQL server binaries not found in ${PG_BIN}. Install them (apt-get install -y postgresql) or set STEPWISE_PG_BIN; the Postgres tests cannot run without a server.`,
    );
  }
  ensurePostgresUser();
  reapOrphans();
  await ensureTemplate();
  installExitHook();

  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, "owner.pid"), String(process.pid));
  live.add(dir);
  execFileSync("cp", ["-a", TEMPLATE, join(dir, "data")]);
  chownToPostgres(dir);

  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < 8 && port === 0; attempt++) {
    const candidate = randomPort();
    try {
      await pgCtlStart(dir, candidate);
      port = candidate;
    } catch (error) {
      lastError = error;
      const log = tail(join(dir, "log"), 20);
      // Another program holds the port: try another. Anything else is fatal.
      if (!/could not (bind|create listen socket)|Address already in use/i.test(log)) break;
    }
  }
  if (port === 0) {
    const log = tail(join(dir, "log"), 30);
    stopNow(dir);
    throw new Error(
      `The throwaway PostgreSQL server did not start: ${(lastError as Error)?.message ?? lastError}\n--- server log ---\n${log}`,
    );
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  let databases = 0;

  return {
    url,
    port,
    dir,
    async createDatabase(name) {
      const database = name ?? `t_${process.pid}_${++databases}_${randomBytes(3).toString("hex")}`;
      const client = new pg.Client({ connectionString: url });
      client.on("error", () => {}); // a connection that drops fails the query in flight instead
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`;
    },
    async restart(mode = "fast") {
      if (stopped) throw new Error("This PostgreSQL server was stopped.");
      await pgCommand("pg_ctl", ["-D", join(dir, "data"), "-m", mode, "-w", "stop"]);
      await pgCtlStart(dir, port);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await pgCommand("pg_ctl", ["-D", join(dir, "data"), "-m", "fast", "-w", "stop"]);
      } catch {
        // Already down: removing the files is what is left.
      }
      rmSync(dir, { recursive: true, force: true });
      live.delete(dir);
    },
    logTail(lines = 30) {
      return tail(join(dir, "log"), lines);
    },
  };
}
