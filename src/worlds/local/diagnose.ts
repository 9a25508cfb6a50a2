/**
 * `npx stepwise doctor` for the local World: examines `stepwise.db` on a READ-ONLY connection (it
 * writes nothing, and works while Stepwise processes use the file) and reports, in words, whether
 * the file is there and is a database; whose it is (application id, tables); its schema version;
 * SQLite's full `integrity_check` (which tables the damage is in); the WAL; and free pages. Damage,
 * another application's file, a schema newer than this code or missing tables are problems; the
 * rest are facts or warnings.
 */
import { statSync } from "node:fs";
import { basename, dirname } from "node:path";
import Database from "better-sqlite3";
import { formatBytes } from "../../util/bytes.ts";
import type { HealthFinding, HealthReport } from "../health.ts";
import { checkProblems, foreignFileError, newerFileError, readIdentity } from "./file-check.ts";
import { LATEST_VERSION, tablesUpTo } from "./migrations.ts";
import { fromSqliteError, isCorruption, sqliteCode } from "./sqlite-errors.ts";

/** Free space worth mentioning: over this many bytes and a quarter of the file. */
const FREE_SPACE_WARNING_BYTES = 16 * 1024 * 1024;

function restoreAdvice(file: string): string {
  const name = basename(file);
  return `Stop every Stepwise process that uses ${dirname(file)}. Then replace ${name} with your latest backup and delete ${name}-wal and ${name}-shm next to it (they belong to the damaged file; SQLite would apply them to the restored one). Without a backup, SQLite's \`.recover\` command (\`sqlite3 ${file} .recover > salvage.sql\`) saves what is still readable, for you to inspect.`;
}

/** Which tables (and the tables of which indexes) integrity_check's messages name. */
function damagedTables(db: Database.Database, problems: readonly string[]): string[] {
  let objects: { name: string; tbl_name: string; rootpage: number | null }[];
  try {
    objects = db
      .prepare<[], { name: string; tbl_name: string; rootpage: number | null }>(
        "SELECT name, tbl_name, rootpage FROM sqlite_schema",
      )
      .all();
  } catch {
    return [];
  }
  const byRoot = new Map(objects.map((object) => [object.rootpage, object.tbl_name]));
  const byName = new Map(objects.map((object) => [object.name, object.tbl_name]));
  const tables = new Set<string>();
  for (const problem of problems) {
    const tree = /Tree (\d+)/.exec(problem);
    const table = tree ? byRoot.get(Number(tree[1])) : undefined;
    if (table !== undefined) tables.add(table);
    for (const match of problem.matchAll(/index (\w+)/g)) {
      const owner = byName.get(match[1] as string);
      if (owner !== undefined) tables.add(owner);
    }
  }
  return [...tables].sort();
}

/** Per table: the problems `integrity_check(table)` lists, or the error that stopped it. */
function checkTableByTable(db: Database.Database): { table: string; problems: string[] }[] {
  const tables = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
    .all()
    .map((row) => row.name);
  const damaged: { table: string; problems: string[] }[] = [];
  for (const table of tables) {
    try {
      const rows = db.pragma(`integrity_check("${table.replaceAll('"', '""')}")`) as Record<string, string>[];
      const problems = rows.map((row) => String(Object.values(row)[0]));
      if (!(problems.length === 1 && problems[0] === "ok")) damaged.push({ table, problems });
    } catch (error) {
      if (!isCorruption(error)) throw error;
      damaged.push({ table, problems: [(error as Error).message] });
    }
  }
  return damaged;
}

function checkIntegrity(db: Database.Database, file: string): HealthFinding {
  const started = performance.now();
  let problems: string[];
  try {
    problems = checkProblems(db, "integrity_check");
  } catch (error) {
    if (!isCorruption(error)) throw error;
    // A malformed page stops the whole check: check table by table to say where the damage is.
    let damaged: { table: string; problems: string[] }[] = [];
    try {
      damaged = checkTableByTable(db);
    } catch {
      // the list of tables itself is unreadable: say what the whole check said
    }
    return {
      check: "integrity",
      status: "problem",
      summary: `SQLite's integrity_check stopped at a malformed page (${(error as Error).message})${damaged.length > 0 ? `; checked table by table, the damage is in the ${damaged.map((d) => d.table).join(", ")} table${damaged.length === 1 ? "" : "s"}` : ""}. The file is damaged, and Stepwise refuses to open it.`,
      details: damaged.flatMap((d) => d.problems.slice(0, 5).map((problem) => `${d.table}: ${problem}`)),
      advice: restoreAdvice(file),
    };
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (problems.length === 0) {
    return {
      check: "integrity",
      status: "ok",
      summary: `SQLite's integrity_check found no damage (${seconds} s).`,
    };
  }
  const tables = damagedTables(db, problems);
  return {
    check: "integrity",
    status: "problem",
    summary: `SQLite's integrity_check found ${problems.length === 20 ? "at least 20" : problems.length} problem${problems.length === 1 ? "" : "s"}${tables.length > 0 ? ` in the ${tables.join(", ")} table${tables.length === 1 ? "" : "s"}` : ""}: parts of the file that cannot be read or do not agree with each other. The file is damaged, and Stepwise refuses to open it.`,
    details: problems,
    advice: restoreAdvice(file),
  };
}

function checkWal(db: Database.Database, file: string, bytes: number): HealthFinding {
  const mode = String(db.pragma("journal_mode", { simple: true }));
  if (mode !== "wal") {
    return {
      check: "WAL",
      status: "ok",
      summary: `The file is in ${mode} journal mode; the next Stepwise process to open it switches it to WAL.`,
    };
  }
  const wal = statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  if (wal === 0) return { check: "WAL", status: "ok", summary: "WAL mode; no changes wait in the WAL." };
  const summary = `WAL mode; ${formatBytes(wal)} of recent changes wait in ${basename(file)}-wal to be copied into the database.`;
  if (wal > Math.max(bytes, 64 * 1024 * 1024)) {
    return {
      check: "WAL",
      status: "warning",
      summary: `${summary} That is more than the database itself.`,
      advice:
        "The WAL is copied into the database at checkpoints, which cannot finish while a reader keeps an old snapshot open: look for a long-running process reading the file. It shrinks back when the last Stepwise process closes it.",
    };
  }
  return {
    check: "WAL",
    status: "ok",
    summary: `${summary} (Normal while Stepwise runs: it copies them as it goes.)`,
  };
}

function checkFreeSpace(db: Database.Database, file: string, bytes: number): HealthFinding {
  const pageSize = db.pragma("page_size", { simple: true }) as number;
  const free = (db.pragma("freelist_count", { simple: true }) as number) * pageSize;
  const share = bytes === 0 ? 0 : Math.round((free / bytes) * 100);
  if (free > FREE_SPACE_WARNING_BYTES && free > bytes / 4) {
    return {
      check: "free space",
      status: "warning",
      summary: `${formatBytes(free)} (${share}%) of the file is free pages left by deleted data; new data reuses them.`,
      advice: `To give that space back to the disk, stop every Stepwise process that uses the file and run \`sqlite3 ${file} VACUUM\` (it rewrites the file and needs that much free disk space).`,
    };
  }
  return { check: "free space", status: "ok", summary: `${formatBytes(free)} of free pages (${share}%).` };
}

/**
 * Examines the local World's database `file`, writing nothing to it. Never throws for what it finds
 * (a missing file, another application's, damage): those are findings.
 */
export function diagnoseLocalFile(file: string): HealthReport {
  const findings: HealthFinding[] = [];
  const report: HealthReport = { world: "local", target: file, findings };
  const problem = (check: string, summary: string, advice: string): HealthReport => {
    findings.push({ check, status: "problem", summary, advice });
    return report;
  };
  const stats = statSync(file, { throwIfNoEntry: false });
  if (stats === undefined) {
    findings.push({
      check: "file",
      status: "ok",
      summary: `There is no database at ${file} yet: Stepwise creates it on first use.`,
      advice: "If you expected one here, check STEPWISE_DATA_DIR (and the directory you run the command in).",
    });
    return report;
  }
  if (!stats.isFile()) {
    return problem(
      "file",
      `${file} is not a file.`,
      "Remove it, or point STEPWISE_DATA_DIR at another directory.",
    );
  }
  if (stats.size === 0) {
    findings.push({
      check: "file",
      status: "ok",
      summary: "An empty file: Stepwise sets it up on first use.",
    });
    return report;
  }
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 10_000 });
  } catch (error) {
    const mapped = fromSqliteError(error, { file, operation: "opening it to check", busyTimeoutMs: 10_000 });
    return problem("file", (mapped as Error).message, "Fix what the message says, then run doctor again.");
  }
  try {
    let identity: ReturnType<typeof readIdentity>;
    try {
      identity = readIdentity(db);
    } catch (error) {
      if (sqliteCode(error) === "SQLITE_NOTADB") {
        return problem(
          "file",
          `${file} is not a SQLite database, or its first page (the header) is damaged.`,
          `If it is Stepwise's database: ${restoreAdvice(file)} If it is another program's file, point STEPWISE_DATA_DIR at a directory of its own.`,
        );
      }
      if (isCorruption(error)) {
        return problem(
          "file",
          `SQLite cannot read the list of tables of ${file} (${(error as Error).message}): the file is damaged.`,
          restoreAdvice(file),
        );
      }
      throw error;
    }
    const pageSize = db.pragma("page_size", { simple: true }) as number;
    const pages = db.pragma("page_count", { simple: true }) as number;
    findings.push({
      check: "file",
      status: "ok",
      summary: `A SQLite database of ${formatBytes(stats.size)} (${pages} pages of ${pageSize} bytes).`,
    });
    switch (identity.kind) {
      case "foreign":
        return problem(
          "owner",
          foreignFileError(file, identity).message.replace(" Stepwise wrote nothing to it.", ""),
          "Point STEPWISE_DATA_DIR at a directory of its own, or move this file away if it does not belong there.",
        );
      case "empty":
        findings.push({
          check: "owner",
          status: "ok",
          summary: "An empty SQLite database: Stepwise sets it up on first use.",
        });
        return report;
      case "newer":
        findings.push({
          check: "schema",
          status: "problem",
          summary: newerFileError(file, identity.version).message,
          advice: "Upgrade Stepwise to the version that wrote it, or later.",
        });
        break;
      case "stepwise": {
        findings.push(
          identity.marked
            ? { check: "owner", status: "ok", summary: "Stepwise's database (its application id says so)." }
            : {
                check: "owner",
                status: "warning",
                summary:
                  "Stepwise's tables, without Stepwise's application id (restored by a tool that dropped it?).",
                advice: "Nothing to do: the next Stepwise process to open it marks it.",
              },
        );
        const tables = new Set(
          db
            .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table'")
            .all()
            .map((row) => row.name),
        );
        const missing = tablesUpTo(identity.version).filter((table) => !tables.has(table));
        if (missing.length > 0) {
          findings.push({
            check: "schema",
            status: "problem",
            summary: `Schema version ${identity.version}, but the tables ${missing.join(", ")} are missing.`,
            advice: `The file was changed by hand or is damaged. ${restoreAdvice(file)}`,
          });
        } else {
          findings.push({
            check: "schema",
            status: "ok",
            summary:
              identity.version === LATEST_VERSION
                ? `Schema version ${identity.version}, the current one.`
                : `Schema version ${identity.version}: the next Stepwise process to open it migrates it to ${LATEST_VERSION}.`,
          });
        }
        break;
      }
    }
    findings.push(checkIntegrity(db, file));
    findings.push(checkWal(db, file, stats.size));
    findings.push(checkFreeSpace(db, file, stats.size));
    return report;
  } finally {
    db.close();
  }
}
