/**
 * Opens the local World's SQLite file: creates the data directory, sets WAL mode, the durability
 * level and the busy timeout (so processes sharing the file wait for each other's write locks
 * instead of failing), and migrates the schema.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { ConfigError } from "../../errors/runtime.ts";
import { migrate } from "./migrations.ts";

export type Synchronous = "normal" | "full";

export interface DatabaseOptions {
  dataDir: string;
  synchronous: Synchronous;
  busyTimeoutMs: number;
}

export const DATABASE_FILE = "stepwise.db";

export function openDatabase(options: DatabaseOptions): { db: Database.Database; file: string; dir: string } {
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
  const db = new Database(file, { timeout: options.busyTimeoutMs });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal")
      throw new ConfigError(`SQLite refused WAL mode for ${file} (journal_mode is ${String(mode)}).`);
    db.pragma(`synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
    db.pragma("foreign_keys = OFF");
    db.pragma("temp_store = MEMORY");
    db.pragma("cache_size = -16000");
    migrate(db, file);
  } catch (error) {
    db.close();
    throw error;
  }
  return { db, file, dir };
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
