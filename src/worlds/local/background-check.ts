/**
 * The integrity check of a database too large to check before opening (`file-check.ts`): SQLite's
 * `quick_check` runs in a separate Node process on a read-only connection, right after the World
 * opens, and reports what it found. Damage stops the World (`Guard.stop`): every later call fails
 * with a `WorldCorruptError` and nothing more is written. A process, not a worker thread: a thread
 * busy in SQLite cannot be interrupted and would hold the process open at exit for as long as the
 * check takes (seconds per GB from disk), while a child process is simply killed when the World
 * closes or the process exits. The child and its pipe are unref'd: the check never keeps a process
 * alive. A check that cannot run or gets no answer (SQLite busy, no `node`) says so once on stderr
 * and finds nothing; damage is then still met when a damaged page is read.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import type { WorldCorruptError } from "../../errors/world.ts";
import { damagedFileError } from "./file-check.ts";
import { fromSqliteError, isCorruption } from "./sqlite-errors.ts";

/** Runs in the child: argv is [driver, file, busyTimeoutMs]; prints { problems } or { error }. */
const CHILD_SCRIPT = `
const [driver, file, timeout] = process.argv.slice(1);
let result;
try {
  const Database = require(driver);
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: Number(timeout) });
  try {
    const rows = db.pragma("quick_check(20)");
    result = { problems: rows.map((row) => String(Object.values(row)[0])) };
  } finally {
    db.close();
  }
} catch (error) {
  result = { error: { code: error && error.code, message: String(error && error.message) } };
}
process.stdout.write(JSON.stringify(result));
`;

export interface BackgroundCheck {
  /** Kills the check if it still runs. */
  stop(): void;
}

export interface BackgroundCheckOptions {
  file: string;
  busyTimeoutMs: number;
  /** Called once if the check finds damage. */
  onDamage(error: WorldCorruptError): void;
}

/** Starts `quick_check` of `options.file` in a child process; `onDamage` hears of damage it finds. */
export function startBackgroundCheck(options: BackgroundCheckOptions): BackgroundCheck {
  const { file } = options;
  const note = (text: string): void => {
    process.stderr.write(`[stepwise] the integrity check of ${file} did not run to the end: ${text}\n`);
  };
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const child = spawn(process.execPath, ["-e", CHILD_SCRIPT, driver, file, String(options.busyTimeoutMs)], {
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  let output = "";
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    process.off("exit", stop);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.on("exit", stop);
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    output += chunk;
  });
  child.on("error", (error) => {
    if (!stopped) note(`it could not start (${error.message}).`);
    stop();
  });
  child.on("close", () => {
    if (stopped) return;
    stop();
    let result: { problems?: string[]; error?: { code?: string; message?: string } };
    try {
      result = JSON.parse(output) as typeof result;
    } catch {
      note("the checking process ended without an answer.");
      return;
    }
    if (result.problems !== undefined) {
      const damaged = !(result.problems.length === 1 && result.problems[0] === "ok");
      if (damaged) options.onDamage(damagedFileError(file, result.problems, "after opening"));
      return;
    }
    const error = Object.assign(new Error(result.error?.message ?? "unknown"), { code: result.error?.code });
    if (isCorruption(error)) {
      // Some damage stops the check itself ("database disk image is malformed").
      options.onDamage(damagedFileError(file, [error.message], "after opening", error));
      return;
    }
    const mapped = fromSqliteError(error, {
      file,
      operation: "the integrity check after opening",
      busyTimeoutMs: options.busyTimeoutMs,
    });
    note((mapped as Error).message);
  });
  child.unref();
  (child.stdout as unknown as { unref(): void }).unref();
  return { stop };
}
