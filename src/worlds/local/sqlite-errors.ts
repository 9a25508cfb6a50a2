/**
 * Turns SQLite's failures into Stepwise errors that say what happened and what to do. The local
 * World calls this at its boundary (opening the file, and every World method: see `guard.ts`), so
 * no raw `SqliteError` reaches user code: a lock held past the busy timeout is a `WorldBusyError`, a
 * full disk, an I/O error, a read-only or unopenable file a `WorldStorageError` (kinds of
 * `WorldUnavailableError`: a later call can succeed), and a damaged file or one that is not a
 * database a `WorldCorruptError`. The original error is kept as `cause`. Anything else (Stepwise's
 * own errors, programming errors) passes through unchanged.
 */
import { userInfo } from "node:os";
import { dirname } from "node:path";
import {
  WorldBusyError,
  WorldCorruptError,
  WorldStorageError,
  type WorldStorageReason,
} from "../../errors/world.ts";

/** Where the error happened, for the message. */
export interface SqliteErrorContext {
  /** The database file. */
  file: string;
  /** What failed, e.g. "runs.create" or "opening the World" (messages say "<operation> failed"). */
  operation: string;
  /** The busy timeout in force, in ms. */
  busyTimeoutMs: number;
}

/** The SQLite result code of `error` (extended, e.g. "SQLITE_IOERR_WRITE"), if it is a SQLite error. */
export function sqliteCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
}

/** The primary result code family: "SQLITE_IOERR_WRITE" → "SQLITE_IOERR". */
function family(code: string): string {
  const second = code.indexOf("_", "SQLITE_".length);
  return second === -1 ? code : code.slice(0, second);
}

/** True for SQLite errors that say the file is damaged or not a database. */
export function isCorruption(error: unknown): boolean {
  const code = sqliteCode(error);
  if (code === undefined) return false;
  const kind = family(code);
  return kind === "SQLITE_CORRUPT" || kind === "SQLITE_NOTADB";
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${String(process.getuid?.() ?? "?")}`;
  }
}

/**
 * The Stepwise error for `error`, or `error` itself when it is not a SQLite error this maps. Never
 * throws.
 */
export function fromSqliteError(error: unknown, context: SqliteErrorContext): unknown {
  const code = sqliteCode(error);
  if (code === undefined) return error;
  const { file, operation } = context;
  const dir = dirname(file);
  const sqlite = `${code}: ${(error as Error).message}`;
  const options = { cause: error };
  const storage = (reason: WorldStorageReason, text: string) => new WorldStorageError(reason, text, options);
  switch (family(code)) {
    case "SQLITE_BUSY":
    case "SQLITE_LOCKED":
      return new WorldBusyError(
        `The local World's database ${file} stayed locked by another connection for longer than the busy timeout (${context.busyTimeoutMs} ms): ${operation} failed and wrote nothing (${sqlite}). Another process is holding a long write transaction on it: wait and try again, or find the process with \`fuser -v ${file}\` (or \`lsof ${file}\`) and stop it.`,
        options,
      );
    case "SQLITE_CORRUPT":
      return new WorldCorruptError(
        `The local World's database ${file} is damaged: SQLite found a malformed page and ${operation} failed (${sqlite}). Stepwise stops using it, so that nothing more is written to it. Stop every Stepwise process that uses ${dir}, then restore stepwise.db from a backup; \`npx stepwise doctor\` shows what is damaged.`,
        options,
      );
    case "SQLITE_NOTADB":
      return new WorldCorruptError(
        `${file} is not a SQLite database, or its header is damaged: ${operation} failed (${sqlite}). Stepwise does not write to it. If it is Stepwise's database, restore it from a backup; if it is another program's file, point STEPWISE_DATA_DIR at a directory of its own. \`npx stepwise doctor\` tells more.`,
        options,
      );
    case "SQLITE_FULL":
      return storage(
        "full",
        `The disk holding the local World's database ${file} is full: ${operation} failed and wrote nothing (${sqlite}). Free disk space, or move STEPWISE_DATA_DIR to a disk with room; Stepwise carries on once there is room.`,
      );
    case "SQLITE_IOERR":
      return storage(
        "io",
        `SQLite could not read or write the local World's database ${file}: ${operation} failed (${sqlite}). The disk or file system failed: a disk error, a file size limit (ulimit -f), a network file system that went away. Check \`dmesg\` and the file system, then try again; if it keeps failing, run \`npx stepwise doctor\`.`,
      );
    case "SQLITE_READONLY":
      return storage(
        "read-only",
        `The local World's database ${file} cannot be written by this process: ${operation} failed (${sqlite}). Give the user running Stepwise (${currentUser()}) write permission on the file, its -wal and -shm files and the directory ${dir}, and check that the file system is not mounted read-only.`,
      );
    case "SQLITE_CANTOPEN":
      return storage(
        "cannot-open",
        `SQLite cannot open the local World's database ${file}: ${operation} failed (${sqlite}). Check that it is a file (not a directory), that the directory ${dir} still exists and is not on a file system mounted read-only, and that the user running Stepwise (${currentUser()}) can read and write both.`,
      );
    default:
      return error;
  }
}
