/**
 * Runs the World conformance suite against the local (SQLite) World — each test on a fresh data
 * directory and a clock the tests drive, with group commit on and off — and tests what only the
 * local World has: its file, schema versioning, durability setting, reopening, dead-owner takeover
 * and handles that never keep the process alive.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors/runtime.ts";
import { ownerScope } from "../../src/util/owner.ts";
import {
  createRun,
  expectReject,
  hookCreated,
  snapshot,
  startedRun,
  stepStarted,
  utf8,
} from "../../src/world/testing/fixtures.ts";
import { describeWorldConformance } from "../../src/world/testing/index.ts";
import { openDatabase, resolveSynchronous } from "../../src/worlds/local/database.ts";
import { createLocalWorld, type LocalWorldOptions } from "../../src/worlds/local/index.ts";
import { APPLICATION_ID, LATEST_VERSION } from "../../src/worlds/local/migrations.ts";

function conformance(name: string, options: LocalWorldOptions): void {
  describeWorldConformance(name, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "stepwise-local-"));
    let time = 1_700_000_000_000;
    const world = createLocalWorld({ dataDir, now: () => time, ...options });
    return {
      world,
      clock: {
        now: () => time,
        advance: (ms) => {
          time += ms;
        },
      },
      async cleanup() {
        await world.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  });
}

conformance("local", {});
conformance("local (group commit off)", { groupCommit: false });

describe("local World specifics", () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "stepwise-local-"));
  });
  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps one WAL-mode database file in the data directory, creating the directory", async () => {
    const nested = join(dataDir, "a", "b");
    const world = createLocalWorld({ dataDir: nested });
    await createRun(world);
    await world.close();
    expect(existsSync(join(nested, "stepwise.db"))).toBe(true);
    const db = new Database(join(nested, "stepwise.db"), { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("user_version", { simple: true })).toBe(LATEST_VERSION);
    expect(db.pragma("application_id", { simple: true })).toBe(APPLICATION_ID);
    db.close();
  });

  it("defaults the data directory to STEPWISE_DATA_DIR", async () => {
    const saved = process.env.STEPWISE_DATA_DIR;
    process.env.STEPWISE_DATA_DIR = join(dataDir, "from-env");
    try {
      const world = createLocalWorld();
      await world.close();
      expect(existsSync(join(dataDir, "from-env", "stepwise.db"))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.STEPWISE_DATA_DIR;
      else process.env.STEPWISE_DATA_DIR = saved;
    }
  });

  it("uses synchronous=NORMAL by default and FULL when asked, by option or environment", () => {
    expect(resolveSynchronous(undefined, undefined)).toBe("normal");
    expect(resolveSynchronous(undefined, "FULL")).toBe("full");
    expect(resolveSynchronous("normal", "full")).toBe("normal");
    expect(() => resolveSynchronous(undefined, "extra")).toThrow(ConfigError);
    for (const [synchronous, level] of [
      ["normal", 1],
      ["full", 2],
    ] as const) {
      const { db } = openDatabase({ dataDir, synchronous, busyTimeoutMs: 1000 });
      expect(db.pragma("synchronous", { simple: true })).toBe(level);
      expect(db.pragma("busy_timeout", { simple: true })).toBe(1000);
      db.close();
    }
  });

  it("waits for another process that holds a fresh file, then fails saying it was kept locked", async () => {
    const file = join(dataDir, "stepwise.db");
    const holder = spawn(
      process.execPath,
      [
        "-e",
        `const db = new (require("better-sqlite3"))(${JSON.stringify(file)});
         db.exec("CREATE TABLE other (x)"); db.exec("BEGIN EXCLUSIVE");
         console.log("locked"); setTimeout(() => db.exec("COMMIT"), 4000);`,
      ],
      { cwd: process.cwd(), stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await new Promise<void>((resolve) => holder.stdout?.once("data", () => resolve()));
      const started = Date.now();
      expect(() => createLocalWorld({ dataDir, busyTimeoutMs: 300 })).toThrow(
        /could not open .*stepwise\.db: other processes kept it locked for more than 300 ms/,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("rejects an unknown STEPWISE_SQLITE_SYNCHRONOUS at open", () => {
    const saved = process.env.STEPWISE_SQLITE_SYNCHRONOUS;
    process.env.STEPWISE_SQLITE_SYNCHRONOUS = "sometimes";
    try {
      expect(() => createLocalWorld({ dataDir })).toThrow(/STEPWISE_SQLITE_SYNCHRONOUS/);
    } finally {
      if (saved === undefined) delete process.env.STEPWISE_SQLITE_SYNCHRONOUS;
      else process.env.STEPWISE_SQLITE_SYNCHRONOUS = saved;
    }
  });

  it("keeps everything across close and reopen", async () => {
    const world = createLocalWorld({ dataDir });
    const run = await startedRun(world);
    await world.events.append({
      runId: run.runId,
      expectedSeq: 2,
      events: [
        stepStarted("s1", 1, utf8("in")),
        { type: "step_completed", data: { stepId: "s1", attempt: 1 }, payload: utf8("out") },
        { type: "wait_created", data: { waitId: "w1", resumeAt: 5 } },
        hookCreated("hook_1", "tok"),
      ],
      enqueue: [{ runId: run.runId, kind: "wake", availableAt: Date.now() + 60_000 }],
    });
    await world.inbox.put({ runId: run.runId, kind: "hook_payload", hookId: "hook_1", payload: utf8("p") });
    await world.streams.write(run.runId, "out", [utf8("chunk")], { close: true });
    const before = await snapshot(world, [run.runId]);
    await world.close();
    const reopened = createLocalWorld({ dataDir });
    expect(await snapshot(reopened, [run.runId])).toEqual(before);
    expect((await reopened.hooks.getByToken("tok")).hookId).toBe("hook_1");
    await reopened.close();
  });

  it("refuses a database whose schema is newer than this code, saying so", async () => {
    await createLocalWorld({ dataDir }).close();
    const db = new Database(join(dataDir, "stepwise.db"));
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    let error: unknown;
    try {
      createLocalWorld({ dataDir });
    } catch (caught) {
      error = caught;
    }
    expect(ConfigError.is(error)).toBe(true);
    expect((error as Error).message).toMatch(/newer/);
    expect((error as Error).message).toContain(`schema version ${LATEST_VERSION + 1}`);
  });

  it("refuses a SQLite file that belongs to something else", () => {
    const db = new Database(join(dataDir, "stepwise.db"));
    db.pragma("application_id = 12345");
    db.close();
    expect(() => createLocalWorld({ dataDir })).toThrow(ConfigError);
  });

  it("treats leases held by dead processes on this host as expired", async () => {
    const { pid } = spawnSync(process.execPath, ["-e", ""]);
    const scope = ownerScope();
    expect(scope).toMatch(/^[0-9a-f]{12}$/);
    const dead = `${hostname()}/${pid}/deadbeef/${scope}`;
    const world = createLocalWorld({ dataDir });
    try {
      const run = await createRun(world);
      expect((await world.runs.acquire(run.runId, dead, 600_000)).acquired).toBe(true);
      const [message] = await world.queue.claim(dead, { limit: 1, leaseMs: 600_000 });
      expect(message?.runId).toBe(run.runId);
      expect(await world.queue.nextAvailableAt()).toBeLessThanOrEqual(Date.now());
      const alive = `${hostname()}/${process.pid}/cafe`;
      expect((await world.runs.acquire(run.runId, alive, 1000)).acquired).toBe(true);
      const [again] = await world.queue.claim(alive, { limit: 1, leaseMs: 1000 });
      expect(again).toMatchObject({ messageId: message?.messageId, deliveries: 2 });
      // Owners on other hosts, and this process itself, are never taken for dead; nor are owners
      // whose pid means something else (another PID namespace or boot: another scope) or cannot
      // be placed (ids without a scope, as older versions wrote them).
      for (const other of [
        "elsewhere/1/x",
        `elsewhere/${pid}/x/${scope}`,
        `${hostname()}/${pid}/x/0123456789ab`,
        `${hostname()}/${pid}/x`,
      ]) {
        const remote = await createRun(world);
        await world.runs.acquire(remote.runId, other, 600_000);
        expect((await world.runs.acquire(remote.runId, alive, 1000)).acquired).toBe(false);
      }
      const mine = await createRun(world);
      await world.runs.acquire(mine.runId, alive, 600_000);
      expect((await world.runs.acquire(mine.runId, "someone", 1000)).acquired).toBe(false);
    } finally {
      await world.close();
    }
  });

  it("keeps no handle alive: watching and checkpointing are unref'd and close stops them", async () => {
    // Resources keeping the loop alive that were not there before (the test runner's own come and go).
    const before = process.getActiveResourcesInfo();
    const added = (): string[] => {
      const left = [...before];
      return process.getActiveResourcesInfo().filter((name) => {
        const at = left.indexOf(name);
        if (at === -1) return true;
        left.splice(at, 1);
        return false;
      });
    };
    const world = createLocalWorld({ dataDir, pollIntervalMs: 50 });
    const unsubscribe = world.subscribe(() => {});
    await createRun(world);
    expect(added()).toEqual([]);
    unsubscribe();
    world.subscribe(() => {});
    await world.close();
    expect(added()).toEqual([]);
  });

  it("close is idempotent and rejects later appends", async () => {
    const world = createLocalWorld({ dataDir });
    const run = await createRun(world);
    await world.close();
    await world.close();
    await expectReject(world.events.append({ runId: run.runId, expectedSeq: 1, events: [] }), {
      code: "CONFLICT",
      is: (value) => (value as { code?: string })?.code === "CONFLICT",
    });
  });
});
