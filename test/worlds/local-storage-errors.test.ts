/**
 * The local World under real storage failures: what user code receives is a Stepwise error that says
 * what happened and what to do, with SQLite's error as `cause` — never a raw `SqliteError`. Every
 * fault is real: another process holding the write lock, pages of the file overwritten on disk, a
 * small tmpfs that fills up and a read-only bind mount (both in a private mount namespace made with
 * `unshare`, so no root is needed), a file-size limit set with `prlimit`, a file renamed while open.
 * Each test checks that its fault happened (SQLite's own code is the cause). The children load
 * `dist/`: run `npm run build` first.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  WorldBusyError,
  WorldCorruptError,
  WorldStorageError,
  WorldUnavailableError,
} from "../../src/errors/world.ts";
import { createRun, expectReject, utf8 } from "../../src/world/testing/fixtures.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";

const child = join(import.meta.dirname, "fixtures", "storage-child.mjs");

let dataDir: string;
let file: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "stepwise-storage-"));
  file = join(dataDir, "stepwise.db");
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

interface Finished {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (asynchronously: the test runner stays responsive meanwhile). */
function run(command: string, args: readonly string[]): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const process = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out = { stdout: "", stderr: "" };
    process.stdout.on("data", (chunk: Buffer) => {
      out.stdout += chunk.toString();
    });
    process.stderr.on("data", (chunk: Buffer) => {
      out.stderr += chunk.toString();
    });
    const timer = setTimeout(() => process.kill("SIGKILL"), 60_000);
    process.on("error", (error) => reject(new Error(`${command} could not run: ${error.message}`)));
    process.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, ...out });
    });
  });
}

/** Runs a shell script in a private user and mount namespace (it may mount tmpfs there). */
async function inMountNamespace(script: string): Promise<Finished> {
  const result = await run("unshare", ["-rm", "sh", "-c", script]);
  if (result.status === 90) {
    throw new Error(
      `This test mounts a tmpfs in a private mount namespace and could not (unshare -rm: user namespaces disabled?): ${result.stderr}`,
    );
  }
  return result;
}

/** The last JSON line a child printed. */
function lastJson(stdout: string): Record<string, unknown> {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`the child printed no JSON: ${stdout}`);
  }
}

function digest(path: string): string {
  return existsSync(path) ? createHash("sha256").update(readFileSync(path)).digest("hex") : "absent";
}

/** The database and its WAL, as hashes: equal before and after means nothing was written. */
function fileState(): string[] {
  return [digest(file), digest(`${file}-wal`)];
}

/** Overwrites whole pages of the database file with a byte that is no valid page type. */
function damagePages(pages: readonly number[]): void {
  const db = new Database(file, { readonly: true });
  const pageSize = db.pragma("page_size", { simple: true }) as number;
  db.close();
  const bytes = readFileSync(file);
  for (const page of pages) bytes.fill(0xa5, (page - 1) * pageSize, page * pageSize);
  writeFileSync(file, bytes);
}

/** The leaf pages of a table or index, leftmost (smallest keys) first. */
function leafPages(db: Database.Database, name: string): number[] {
  return db
    .prepare<[string], { pageno: number }>(
      "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY path",
    )
    .all(name)
    .map((row) => row.pageno);
}

describe("the local World's SQLite failures, as user code sees them", () => {
  it("a write lock held past the busy timeout is a WorldBusyError on both write paths, and passes", async () => {
    const world = createLocalWorld({ dataDir, busyTimeoutMs: 300 });
    const run = await createRun(world);
    const holder = spawn(
      process.execPath,
      [
        "-e",
        `const db = new (require("better-sqlite3"))(${JSON.stringify(file)});
         db.exec("BEGIN IMMEDIATE"); console.log("locked");
         process.stdin.on("data", () => { db.exec("COMMIT"); console.log("released"); });`,
      ],
      { cwd: process.cwd(), stdio: ["pipe", "pipe", "inherit"] },
    );
    try {
      const said = (text: string) =>
        new Promise<void>((resolve) => {
          const listen = (chunk: Buffer) => {
            if (!chunk.toString().includes(text)) return;
            holder.stdout?.off("data", listen);
            resolve();
          };
          holder.stdout?.on("data", listen);
        });
      await said("locked");
      const created = await expectReject(createRun(world), WorldBusyError, true);
      expect(WorldUnavailableError.is(created)).toBe(true);
      expect((created.cause as { code?: string }).code).toBe("SQLITE_BUSY");
      expect(created.message).toContain(`The local World's database ${file} stayed locked`);
      expect(created.message).toContain("(300 ms): runs.create failed and wrote nothing");
      expect(created.message).toContain(`fuser -v ${file}`);
      // The group-commit path (an append) says the same.
      const appended = await expectReject(
        world.events.append({
          runId: run.runId,
          expectedSeq: 1,
          events: [{ type: "run_started", data: {} }],
        }),
        WorldBusyError,
        true,
      );
      expect(appended.message).toContain("events.append failed");
      expect((appended.cause as { code?: string }).code).toBe("SQLITE_BUSY");
      // Once the other process lets go, the same calls succeed.
      const released = said("released");
      holder.stdin?.write("go\n");
      await released;
      await createRun(world);
      await world.events.append({
        runId: run.runId,
        expectedSeq: 1,
        events: [{ type: "run_started", data: {} }],
      });
    } finally {
      holder.kill("SIGKILL");
      await world.close();
    }
  });

  describe("pages damaged on disk while the World is open", () => {
    let world: World;
    let other: Database.Database;
    const first = "wrun_0_first";
    const last = "wrun_z_last";

    /** Fills the events index over several leaf pages, then damages the leftmost one on disk. */
    async function damageFirstRunsIndexPage(): Promise<void> {
      world = createLocalWorld({ dataDir });
      for (const runId of [first, last, ...Array.from({ length: 300 }, (_, i) => `wrun_m_${i}`)]) {
        await createRun(world, { runId });
        await world.events.append({ runId, expectedSeq: 1, events: [{ type: "run_started", data: {} }] });
      }
      other = new Database(file);
      other.pragma("wal_checkpoint(TRUNCATE)");
      const leaves = leafPages(other, "sqlite_autoindex_events_1");
      expect(leaves.length).toBeGreaterThan(2);
      damagePages([leaves[0] as number]);
      // Another connection's commit makes the World's connection drop its cached pages.
      other.pragma(`user_version = ${other.pragma("user_version", { simple: true }) as number}`);
    }

    afterEach(async () => {
      other?.close();
      await world?.close();
    });

    it("a read meets the damage as a WorldCorruptError, and from then on the World refuses every call", async () => {
      await damageFirstRunsIndexPage();
      const read = await expectReject(world.events.list(first), WorldCorruptError, true);
      expect((read.cause as { code?: string }).code).toMatch(/^SQLITE_CORRUPT/);
      expect(read.message).toContain(`The local World's database ${file} is damaged`);
      expect(read.message).toContain("events.list failed");
      expect(read.message).toContain("restore stepwise.db from a backup");
      expect(read.message).toContain("npx stepwise doctor");
      const before = fileState();
      const refused = await expectReject(createRun(world), WorldCorruptError, true);
      expect(refused.message).toMatch(/^runs\.create was refused: this World stopped using its database/);
      await expectReject(world.runs.list(), WorldCorruptError, true);
      await expectReject(
        world.events.append({ runId: last, expectedSeq: 2, events: [{ type: "run_completed", data: {} }] }),
        WorldCorruptError,
        true,
      );
      await expectReject(
        world.audit.record({
          actor: { user: "u", host: "h", pid: 1 },
          action: "x",
          resource: "y",
          runIds: [],
        }),
        WorldCorruptError,
        true,
      );
      expect(fileState()).toEqual(before);
    });

    it("appends queued with the damaged one, and a call made right behind them, write nothing", async () => {
      await damageFirstRunsIndexPage();
      // One batch: an append that meets the damage and one that does not; then, in the same tick, a
      // create whose start commits that batch and must not write after it failed.
      const calls = [
        world.events.append({ runId: first, expectedSeq: 2, events: [{ type: "run_completed", data: {} }] }),
        world.events.append({ runId: last, expectedSeq: 2, events: [{ type: "run_completed", data: {} }] }),
        createRun(world, { runId: "wrun_zz_after" }),
      ];
      const outcomes = await Promise.allSettled(calls);
      for (const outcome of outcomes) {
        expect(outcome.status).toBe("rejected");
        expect(WorldCorruptError.is((outcome as PromiseRejectedResult).reason)).toBe(true);
      }
      const seqOf = (runId: string) =>
        other.prepare<[string], { seq: number }>("SELECT seq FROM runs WHERE run_id = ?").get(runId)?.seq;
      expect(seqOf(first)).toBe(2);
      expect(seqOf(last)).toBe(2);
      expect(seqOf("wrun_zz_after")).toBeUndefined();
    });
  });

  it("a full disk is a WorldStorageError (full); reads still work, and writes resume once there is room", async () => {
    const script = `mount -t tmpfs -o size=2m tmpfs ${dataDir} || exit 90
exec "${process.execPath}" ${child} fill ${dataDir} 262144`;
    const result = await inMountNamespace(script);
    expect(result.status, result.stderr).toBe(0);
    const { created, failure, readAfter, createdAfterFreeing } = lastJson(result.stdout) as {
      created: number;
      failure: Record<string, string>;
      readAfter: unknown;
      createdAfterFreeing: unknown;
    };
    expect(created).toBeGreaterThan(0);
    expect(failure).toMatchObject({ name: "WorldStorageError", code: "WORLD_STORAGE", reason: "full" });
    expect(failure.causeCode).toBe("SQLITE_FULL");
    expect(failure.message).toContain("is full: runs.create failed and wrote nothing");
    expect(failure.message).toContain("Free disk space");
    expect(readAfter).toBe("wrun_storage_000000");
    expect(createdAfterFreeing).toBe(`wrun_storage_${String(created + 1).padStart(6, "0")}`);
  });

  it("a file-size limit is a WorldStorageError (io) that says what to check", async () => {
    const result = await run("prlimit", ["--fsize=600000", process.execPath, child, "fill", dataDir, "1"]);
    expect(result.status, result.stderr).toBe(0);
    const { created, failure } = lastJson(result.stdout) as {
      created: number;
      failure: Record<string, string>;
    };
    expect(created).toBeGreaterThan(0);
    expect(failure).toMatchObject({ name: "WorldStorageError", code: "WORLD_STORAGE", reason: "io" });
    expect(failure.causeCode).toMatch(/^SQLITE_IOERR/);
    expect(failure.message).toContain("could not read or write");
    expect(failure.message).toContain("ulimit -f");
  });

  it("a database on a read-only mount is a WorldStorageError (read-only) on the first write; reads work", async () => {
    const rw = join(dataDir, "rw");
    const ro = join(dataDir, "ro");
    mkdirSync(rw);
    mkdirSync(ro);
    const script = `mount -t tmpfs -o size=4m tmpfs ${rw} && mount --bind ${rw} ${ro} && mount -o remount,bind,ro ${ro} || exit 90
"${process.execPath}" ${child} hold ${rw} > ${dataDir}/holder.out 2>&1 &
holder=$!
for i in $(seq 300); do grep -q holding ${dataDir}/holder.out 2>/dev/null && break; sleep 0.05; done
"${process.execPath}" ${child} open ${ro}
status=$?
kill $holder
wait $holder
exit $status`;
    const result = await inMountNamespace(script);
    expect(result.status, result.stderr).toBe(0);
    const outcome = lastJson(result.stdout) as {
      opened: boolean;
      read: number;
      writeFailure: Record<string, string>;
    };
    expect(outcome.opened).toBe(true);
    expect(outcome.read).toBe(1);
    expect(outcome.writeFailure).toMatchObject({ name: "WorldStorageError", reason: "read-only" });
    expect(outcome.writeFailure.causeCode).toMatch(/^SQLITE_READONLY/);
    expect(outcome.writeFailure.message).toContain("cannot be written by this process: runs.create failed");
    expect(outcome.writeFailure.message).toContain("write permission");
  });

  it("a directory where the database file belongs is a WorldStorageError (cannot-open) at open", () => {
    mkdirSync(file);
    let error: unknown;
    try {
      createLocalWorld({ dataDir });
    } catch (caught) {
      error = caught;
    }
    expect(WorldStorageError.is(error)).toBe(true);
    expect((error as WorldStorageError).reason).toBe("cannot-open");
    expect(((error as Error).cause as { code?: string }).code).toBe("SQLITE_CANTOPEN");
    expect((error as Error).message).toContain("Check that it is a file (not a directory)");
  });

  it("a file that is not a database is a WorldCorruptError at open, and is left as it was", () => {
    const text = utf8("these are my notes, not a database\n".repeat(200));
    writeFileSync(file, text);
    let error: unknown;
    try {
      createLocalWorld({ dataDir });
    } catch (caught) {
      error = caught;
    }
    expect(WorldCorruptError.is(error)).toBe(true);
    expect(((error as Error).cause as { code?: string }).code).toBe("SQLITE_NOTADB");
    expect((error as Error).message).toContain(`${file} is not a SQLite database, or its header is damaged`);
    expect(readFileSync(file).equals(Buffer.from(text))).toBe(true);
  });
});
