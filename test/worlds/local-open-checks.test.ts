/**
 * What the local World checks before it writes to a file: that it is Stepwise's (another
 * application's database is refused, an empty file or one written by an earlier Stepwise is
 * adopted) and that it is not damaged (SQLite's quick_check, before opening for files up to 64 MiB
 * and in a background process right after for larger ones). A refused file is left byte for byte as
 * it was. The damage is real: pages of a closed database overwritten on disk, a copy cut short.
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors/runtime.ts";
import { WorldCorruptError } from "../../src/errors/world.ts";
import { createRun, expectReject } from "../../src/world/testing/fixtures.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { APPLICATION_ID, LATEST_VERSION, MIGRATIONS } from "../../src/worlds/local/migrations.ts";

let dataDir: string;
let file: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "stepwise-open-"));
  file = join(dataDir, "stepwise.db");
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

const digest = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

function openError(options: Parameters<typeof createLocalWorld>[0] = {}): Error & { code?: string } {
  try {
    createLocalWorld({ dataDir, ...options });
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("the World opened");
}

/** A closed Stepwise database with some runs and events (its WAL folded in at close). */
async function stepwiseDatabase(runs = 60): Promise<void> {
  const world = createLocalWorld({ dataDir });
  for (let index = 0; index < runs; index++) {
    const run = await createRun(world, { runId: `wrun_${String(index).padStart(4, "0")}` });
    await world.events.append({
      runId: run.runId,
      expectedSeq: 1,
      events: [
        { type: "run_started", data: {} },
        {
          type: "step_started",
          data: { stepId: "s1", stepName: "step//x//y", attempt: 1 },
          payload: new Uint8Array(3000).fill(index),
        },
      ],
    });
  }
  await world.close();
}

/** Overwrites pages of the (closed) file with a byte that is no valid page type. */
function damage(pages: readonly number[]): void {
  const bytes = readFileSync(file);
  const pageSize = bytes.readUInt16BE(16);
  for (const page of pages) bytes.fill(0xa5, (page - 1) * pageSize, page * pageSize);
  writeFileSync(file, bytes);
}

/** Leaf pages of the events table, which opening never reads. */
function eventLeaves(): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare<[], { pageno: number }>(
        "SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' ORDER BY path",
      )
      .all()
      .map((row) => row.pageno);
  } finally {
    db.close();
  }
}

describe("a file that is not Stepwise's", () => {
  it("is refused when it holds another application's tables, naming the file; nothing is written", () => {
    const other = new Database(file);
    other.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE orders (id, total)");
    other.prepare("INSERT INTO customers (name) VALUES (?)").run("Ada");
    other.close();
    const before = digest(file);
    const error = openError();
    expect(ConfigError.is(error)).toBe(true);
    expect(error.message).toContain(`${file} is a SQLite database that does not belong to Stepwise`);
    expect(error.message).toContain("it holds tables Stepwise does not create (customers, orders)");
    expect(error.message).toContain("Point STEPWISE_DATA_DIR at a directory of its own");
    expect(digest(file)).toBe(before);
    expect(readdirSync(dataDir)).toEqual(["stepwise.db"]);
  });

  it("is refused when it is another application's in WAL mode; its bytes stay as they were", () => {
    const other = new Database(file);
    other.pragma("journal_mode = WAL");
    other.exec("CREATE TABLE notes (body TEXT)");
    other.close();
    const before = digest(file);
    expect(ConfigError.is(openError())).toBe(true);
    expect(digest(file)).toBe(before);
    expect(existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0).toBe(0);
  });

  it("is refused when another application marked it with its application id", () => {
    const other = new Database(file);
    other.pragma("application_id = 12345");
    other.close();
    const before = digest(file);
    expect(openError().message).toContain("it is marked as another application's (application_id 12345)");
    expect(digest(file)).toBe(before);
  });
});

describe("files Stepwise adopts", () => {
  const version = (): { version: number; applicationId: number } => {
    const db = new Database(file, { readonly: true });
    try {
      return {
        version: db.pragma("user_version", { simple: true }) as number,
        applicationId: db.pragma("application_id", { simple: true }) as number,
      };
    } finally {
      db.close();
    }
  };

  it("an empty file becomes a Stepwise database", async () => {
    writeFileSync(file, "");
    const world = createLocalWorld({ dataDir });
    await createRun(world);
    await world.close();
    expect(version()).toEqual({ version: LATEST_VERSION, applicationId: APPLICATION_ID });
  });

  it("a file written by an earlier Stepwise (schema version 2) opens and is migrated", async () => {
    const old = new Database(file);
    old.pragma("journal_mode = WAL");
    for (const migration of MIGRATIONS.filter((m) => m.version <= 2)) old.exec(migration.sql);
    old.pragma(`application_id = ${APPLICATION_ID}`);
    old.pragma("user_version = 2");
    old.close();
    const world = createLocalWorld({ dataDir });
    await createRun(world);
    await world.close();
    expect(version()).toEqual({ version: LATEST_VERSION, applicationId: APPLICATION_ID });
  });

  it("a Stepwise file that lost its application id (restored by another tool) is recognised and marked", async () => {
    await stepwiseDatabase(2);
    const db = new Database(file);
    db.pragma("application_id = 0");
    db.close();
    const world = createLocalWorld({ dataDir });
    expect((await world.runs.list()).items).toHaveLength(2);
    await world.close();
    expect(version().applicationId).toBe(APPLICATION_ID);
  });
});

describe("a damaged file", () => {
  it("is refused at open with what to do, and nothing is written to it", async () => {
    await stepwiseDatabase();
    const leaves = eventLeaves();
    expect(leaves.length).toBeGreaterThan(3);
    damage([leaves[Math.floor(leaves.length / 2)] as number]);
    const before = digest(file);
    const error = openError();
    expect(WorldCorruptError.is(error)).toBe(true);
    expect(error.message).toContain(
      `The local World's database ${file} is damaged: SQLite's quick_check at open found`,
    );
    expect(error.message).toContain("restore stepwise.db from a backup");
    expect(error.message).toContain("npx stepwise doctor");
    expect(digest(file)).toBe(before);
    expect(existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0).toBe(0);
  });

  it("is refused at open when it is a copy cut short", async () => {
    await stepwiseDatabase();
    truncateSync(file, Math.floor(statSync(file).size / 2 / 4096) * 4096);
    const before = digest(file);
    const error = openError();
    expect(WorldCorruptError.is(error)).toBe(true);
    expect(error.message).toContain("is damaged");
    expect(digest(file)).toBe(before);
  });

  it("too large to check before opening, is found by the background check, and the World stops", async () => {
    await stepwiseDatabase();
    const leaves = eventLeaves();
    damage([leaves[Math.floor(leaves.length / 2)] as number]);
    // Every file counts as large here: opening reads only the header and the schema.
    const world = createLocalWorld({ dataDir, fullCheckMaxBytes: 0 });
    try {
      let error: unknown;
      for (const deadline = Date.now() + 20_000; error === undefined && Date.now() < deadline; ) {
        try {
          await world.runs.get("wrun_0000");
          await new Promise((resolve) => setTimeout(resolve, 20));
        } catch (caught) {
          error = caught;
        }
      }
      expect(WorldCorruptError.is(error)).toBe(true);
      expect((error as Error).message).toContain("SQLite's quick_check after opening found");
      const before = digest(file);
      await expectReject(createRun(world), WorldCorruptError, true);
      expect(digest(file)).toBe(before);
    } finally {
      await world.close();
    }
  });

  it("when sound and large, passes the background check and stays open", async () => {
    await stepwiseDatabase(5);
    const world = createLocalWorld({ dataDir, fullCheckMaxBytes: 0 });
    try {
      for (let index = 0; index < 20; index++) {
        await createRun(world);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await world.runs.list()).items).toHaveLength(25);
    } finally {
      await world.close();
    }
  });
});
