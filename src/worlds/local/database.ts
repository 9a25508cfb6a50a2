/**
 * Opens the local World's SQLite file: creates the data directory, checks an existing file on a
 * read-only connection first (a database, Stepwise's, not too new, not damaged: `file-check.ts`),
 * so that a file it refuses is left exactly as it was; then sets WAL mode, the durability level and
 * the busy timeout (so processes sharing the file wait for each other's write locks instead of
 * failing), and migrates the schema.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { ConfigError } from "../../errors/runtime.ts";
import { checkBeforeOpening, FULL_CHECK_MAX_BYTES, type PreOpenCheck } from "./file-check.ts";
import { migrate } from "./migrate.ts";
import { fromSqliteError } from "./sqlite-errors.ts";

export type Synchronous = "normal" | "full";

export interface DatabaseOptions {
  dataDir: string;
  synchronous: Synchronous;
  busyTimeoutMs: number;
  /** Files up to this size get the full `quick_check` before opening. Default `FULL_CHECK_MAX_BYTES`. */
  fullCheckMaxBytes?: number;
}

export interface OpenedDatabase {
  db: Database.Database;
  file: string;
  dir: string;
  /** What the check before opening did: when not `fullyChecked`, the background check must. */
  checked: PreOpenCheck;
}

export const DATABASE_FILE = "stepwise.db";

/**
 * Opens (creating if needed) `<dataDir>/stepwise.db` for the local World. Refuses, writing nothing:
 * another application's database or a newer schema (`ConfigError`), a damaged file or one that is
 * not a database (`WorldCorruptError`); SQLite's other failures leave as `sqlite-errors.ts` maps
 * them (`WorldStorageError`, `ConfigError` when other processes keep the file locked while it is
 * set up).
 */
export function openDatabase(options: DatabaseOptions): OpenedDatabase {
  const dir = resolve(options.dataDir);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new ConfigError(
      `The local World cannot create its data directory ${dir} (${(error as Error).message}). Set STEPWISE_DATA_DIR to a writable directory.`,
      { cause: error },
    );
  }
  const file = join(dir, DATABASE_FILE);
  const failed = (error: unknown): unknown =>
    fromSqliteError(error, { file, operation: "opening the World", busyTimeoutMs: options.busyTimeoutMs });
  let checked: PreOpenCheck | undefined;
  let db: Database.Database;
  try {
    whileBusy(file, options.busyTimeoutMs, () => {
      checked = checkBeforeOpening(
        file,
        options.busyTimeoutMs,
        options.fullCheckMaxBytes ?? FULL_CHECK_MAX_BYTES,
      );
    });
    db = new Database(file, { timeout: options.busyTimeoutMs });
  } catch (error) {
    throw failed(error);
  }
  try {
    // Every statement, even a pragma, may need to read the file first: all of it waits its turn.
    whileBusy(file, options.busyTimeoutMs, () => {
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
      db.pragma(`synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
      db.pragma("foreign_keys = OFF");
      db.pragma("temp_store = MEMORY");
      db.pragma("cache_size = -16000");
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (mode !== "wal") throw new WalRefused(file, String(mode));
      migrate(db, file);
    });
  } catch (error) {
    db.close();
    throw failed(error);
  }
  return { db, file, dir, checked: checked as PreOpenCheck };
}

/** `journal_mode = WAL` did not take: SQLite returns the old mode when another connection is in the way. */
class WalRefused extends ConfigError {
  constructor(file: string, mode: string) {
    super(`SQLite refused WAL mode for ${file} (journal_mode is ${mode}).`);
  }
}

const isBusy = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
};

/**
 * Runs `setUp` (the pragmas, switching a fresh file to WAL, migrating), and again while another
 * process is in the way, for up to `timeoutMs`. Processes opening a fresh file at once can meet
 * where SQLite reports SQLITE_BUSY at once instead of waiting (two connections each holding a
 * shared lock and wanting an exclusive one), or keeps the old journal mode; the busy timeout does
 * not cover those, so this waits a few milliseconds (blocking: it only happens while opening) and
 * tries again.
 */
function whileBusy(file: string, timeoutMs: number, setUp: () => void): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 1; ; attempt++) {
    try {
      setUp();
      return;
    } catch (error) {
      if (!(isBusy(error) || error instanceof WalRefused)) throw error;
      if (Date.now() >= deadline) {
        // Still refused with nobody in the way for that long: the file system cannot do WAL.
        if (error instanceof WalRefused) throw error;
        throw new ConfigError(
          `The local World could not open ${file}: other processes kept it locked for more than ${timeoutMs} ms while it was being set up (${(error as Error).message}). If another program holds the file, stop it; otherwise try again.`,
          { cause: error },
        );
      }
      Atomics.wait(pause, 0, 0, Math.min(100, 2 ** attempt) + Math.random() * 10);
    }
  }
}

/** `synchronous` from the option, else STEPWISE_SQLITE_SYNCHRONOUS, else "normal". */
export function resolveSynchronous(option: Synchronous | undefined, env: string | undefined): Synchronous {
  if (option !== undefined) return option;
  const value = env?.trim().toLowerCase();
  if (value === undefined || value === "") return "normal";
  if (value === "normal" || value === "full") return value;
  throw new ConfigError(
    `STEPWISE_SQLITE_SYNCHRONOUS=${env} is not understood. Use "normal" (the default) or "full".`,
  );
}
