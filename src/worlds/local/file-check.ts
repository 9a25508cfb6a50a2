/**
 * What the local World checks about a SQLite file before it writes anything to it: that it is a
 * database at all, that it is Stepwise's (or empty), that its schema is not newer than this code,
 * and that SQLite's `quick_check` finds no damage. Opening runs these on a READ-ONLY connection
 * first (`checkBeforeOpening`), so a file that fails them is left exactly as it was; `migrate` runs
 * `identify` again inside its write transaction. `npx stepwise doctor` (`diagnose.ts`) reuses them.
 *
 * `quick_check` reads the whole file: about 0.9 s per GB from the page cache and 16 s per GB from
 * this VM's disk (docs/architecture.md). Files up to `FULL_CHECK_MAX_BYTES` are checked in full
 * before opening; larger ones are checked in a background process right after (`background-check.ts`).
 */
import { statSync } from "node:fs";
import Database from "better-sqlite3";
import { ConfigError } from "../../errors/runtime.ts";
import { WorldCorruptError } from "../../errors/world.ts";
import { APPLICATION_ID, LATEST_VERSION, STEPWISE_TABLES } from "./migrations.ts";
import { isCorruption } from "./sqlite-errors.ts";

/** Files up to this size get the full `quick_check` before opening (about 55 ms when cached). */
export const FULL_CHECK_MAX_BYTES = 64 * 1024 * 1024;

/** Problems a check lists at most (SQLite's own default is 100). */
const MAX_PROBLEMS = 20;

/** What a file is, as far as Stepwise is concerned. */
export type Identity =
  | { kind: "empty" }
  | { kind: "stepwise"; version: number; marked: boolean }
  | { kind: "foreign"; applicationId: number; version: number; tables: string[] }
  | { kind: "newer"; version: number };

/**
 * Reads what `db` is, writing nothing. Stepwise's files carry its application id (set in the same
 * transaction as the first migration, by every version). A file without one is new when it has no
 * tables and no schema version; it is an unmarked Stepwise file (restored by a tool that dropped the
 * header field, say) when it has a schema version and only tables Stepwise creates; anything else
 * belongs to another application.
 */
export function readIdentity(db: Database.Database): Identity {
  // One read transaction: the header's marks and the table list from the same snapshot. Read one
  // by one, another process's first migration could commit in between, and its tables would be
  // seen without its marks (a "foreign" database, when two processes open a fresh one at once).
  return db.transaction(() => identityNow(db))();
}

function identityNow(db: Database.Database): Identity {
  const applicationId = db.pragma("application_id", { simple: true }) as number;
  const version = db.pragma("user_version", { simple: true }) as number;
  const tables = db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .all()
    .map((row) => row.name);
  const ours =
    applicationId === APPLICATION_ID ||
    (applicationId === 0 && version >= 1 && tables.length > 0 && tables.every((t) => STEPWISE_TABLES.has(t)));
  if (ours) {
    if (version > LATEST_VERSION) return { kind: "newer", version };
    return { kind: "stepwise", version, marked: applicationId === APPLICATION_ID };
  }
  if (applicationId === 0 && version === 0 && tables.length === 0) return { kind: "empty" };
  return { kind: "foreign", applicationId, version, tables };
}

/** The `ConfigError` for a file that is not Stepwise's. */
export function foreignFileError(
  file: string,
  identity: { applicationId: number; version: number; tables: string[] },
): ConfigError {
  const shown = identity.tables.slice(0, 5).join(", ") + (identity.tables.length > 5 ? ", …" : "");
  const what =
    identity.applicationId !== 0
      ? `it is marked as another application's (application_id ${identity.applicationId})`
      : identity.tables.length > 0
        ? `it holds tables Stepwise does not create (${shown})`
        : `it has no tables but a schema version (${identity.version}) that Stepwise did not write`;
  return new ConfigError(
    `${file} is a SQLite database that does not belong to Stepwise: ${what}. Stepwise wrote nothing to it. Point STEPWISE_DATA_DIR at a directory of its own, or move this file away if it does not belong there.`,
  );
}

/** The `ConfigError` for a file written by a newer Stepwise. */
export function newerFileError(file: string, version: number): ConfigError {
  return new ConfigError(
    `The Stepwise database ${file} has schema version ${version}, which is newer than this version of Stepwise understands (up to ${LATEST_VERSION}). It was written by a newer Stepwise: upgrade Stepwise, or point STEPWISE_DATA_DIR at another directory.`,
  );
}

/** Throws unless `identity` is a file Stepwise may use (empty, or Stepwise's at a version it knows). */
export function requireUsable(file: string, identity: Identity): void {
  if (identity.kind === "foreign") throw foreignFileError(file, identity);
  if (identity.kind === "newer") throw newerFileError(file, identity.version);
}

/** SQLite's `quick_check` (or `integrity_check`) problems; empty when it says "ok". */
export function checkProblems(db: Database.Database, pragma: "quick_check" | "integrity_check"): string[] {
  const rows = db.pragma(`${pragma}(${MAX_PROBLEMS})`, { simple: false }) as Record<string, string>[];
  // The first line names the schema ("*** in database main ***"): not news to anyone.
  const lines = rows.map((row) =>
    String(Object.values(row)[0]).replace(/^\*\*\* in database \w+ \*\*\*\n/, ""),
  );
  return lines.length === 1 && lines[0] === "ok" ? [] : lines;
}

/** The `WorldCorruptError` for problems SQLite's check found in `file`. */
export function damagedFileError(
  file: string,
  problems: readonly string[],
  when: string,
  cause?: unknown,
): WorldCorruptError {
  const listed = problems
    .slice(0, 3)
    .map((problem) => `"${problem}"`)
    .join("; ");
  const more = problems.length > 3 ? ` and ${problems.length - 3} more` : "";
  return new WorldCorruptError(
    `The local World's database ${file} is damaged: SQLite's quick_check ${when} found ${listed}${more}. Stepwise does not write to it. Stop every Stepwise process that uses it, then restore stepwise.db from a backup; \`npx stepwise doctor\` shows what is damaged.`,
    cause === undefined ? undefined : { cause },
  );
}

/** What the check before opening found out. */
export interface PreOpenCheck {
  /** The file's size in bytes (0 when it does not exist yet). */
  bytes: number;
  /** Whether `quick_check` ran in full (otherwise the background check must). */
  fullyChecked: boolean;
}

/**
 * Checks an existing, non-empty file on a read-only connection, before any connection that can
 * write opens it: not a database (`SQLITE_NOTADB`), not Stepwise's or too new (`ConfigError`),
 * damaged (`WorldCorruptError`). Runs `quick_check` in full up to `fullCheckMaxBytes`. SQLite errors
 * are thrown as they are (the caller maps them).
 */
export function checkBeforeOpening(
  file: string,
  busyTimeoutMs: number,
  fullCheckMaxBytes: number,
): PreOpenCheck {
  let bytes: number;
  try {
    const stats = statSync(file);
    // Not a file (a directory, say): the opening itself fails and says so.
    if (!stats.isFile()) return { bytes: 0, fullyChecked: true };
    bytes = stats.size;
  } catch {
    return { bytes: 0, fullyChecked: true }; // not there yet: created empty by the opening
  }
  if (bytes === 0) return { bytes, fullyChecked: true };
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
  try {
    const identity = readIdentity(db);
    requireUsable(file, identity);
    if (identity.kind === "empty" || bytes > fullCheckMaxBytes) {
      return { bytes, fullyChecked: identity.kind === "empty" };
    }
    let problems: string[];
    try {
      problems = checkProblems(db, "quick_check");
    } catch (error) {
      // Some damage stops the check itself ("database disk image is malformed").
      if (!isCorruption(error)) throw error;
      throw damagedFileError(file, [(error as Error).message], "at open", error);
    }
    if (problems.length > 0) throw damagedFileError(file, problems, "at open");
    return { bytes, fullyChecked: true };
  } finally {
    db.close();
  }
}
