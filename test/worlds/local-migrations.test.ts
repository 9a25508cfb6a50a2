/**
 * The local World's migrations on files an older Stepwise wrote: the schema is brought up to date
 * at open and the runs in it keep working. Each file is built the way that older version left it
 * (its migrations applied, its rows inserted as it stored them), not by the current code.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stepStarted } from "../../src/world/testing/fixtures.ts";
import { DATABASE_FILE } from "../../src/worlds/local/database.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { APPLICATION_ID, LATEST_VERSION, MIGRATIONS } from "../../src/worlds/local/migrations.ts";

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "stepwise-migrate-"));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** A database file as Stepwise with schema `version` left it. */
function fileAt(version: number): Database.Database {
  const db = new Database(join(dataDir, DATABASE_FILE));
  db.pragma("journal_mode = WAL");
  for (const migration of MIGRATIONS) if (migration.version <= version) db.exec(migration.sql);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma(`user_version = ${version}`);
  return db;
}

describe("local World: upgrading a file written by schema version 2", () => {
  it("records which runs are encrypted and how many payload bytes each holds, and keeps them running", async () => {
    const db = fileAt(2);
    const sealed = Buffer.from([2, ...new Array(40).fill(9)]);
    const plain = Buffer.from([1, 65, 66]);
    for (const [runId, input] of [
      ["wrun_old_sealed", sealed],
      ["wrun_old_plain", plain],
    ] as const) {
      db.prepare(
        `INSERT INTO runs (run_id, workflow_name, status, seq, spec_version, seed, created_at, updated_at)
         VALUES (?, 'old/workflow', 'running', 3, 1, 'seed', 1, 1)`,
      ).run(runId);
      const event = db.prepare(
        "INSERT INTO events (run_id, seq, type, data, payload, created_at) VALUES (?, ?, ?, ?, ?, 1)",
      );
      event.run(runId, 1, "run_created", "{}", input);
      event.run(runId, 2, "run_started", "{}", null);
      event.run(
        runId,
        3,
        "step_started",
        '{"stepId":"before","stepName":"s","attempt":1}',
        Buffer.alloc(100),
      );
      db.prepare(
        `INSERT INTO steps (run_id, step_id, step_name, status, attempt, input_seq, created_at, started_at, updated_at)
         VALUES (?, 'before', 's', 'running', 1, 3, 1, 1, 1)`,
      ).run(runId);
    }
    db.prepare(
      "INSERT INTO streams (run_id, name, length, closed, created_at) VALUES ('wrun_old_sealed', 'default', 2, 0, 1)",
    ).run();
    const chunk = db.prepare(
      "INSERT INTO stream_chunks (run_id, name, idx, data, created_at) VALUES ('wrun_old_sealed', 'default', ?, ?, 1)",
    );
    chunk.run(0, Buffer.alloc(20));
    chunk.run(1, Buffer.alloc(30));
    db.prepare(
      `INSERT INTO inbox (item_id, run_id, kind, hook_id, payload, created_at)
       VALUES ('inbox_old', 'wrun_old_sealed', 'hook_payload', 'hook_1', ?, 1)`,
    ).run(Buffer.alloc(50));
    db.close();

    const world = createLocalWorld({ dataDir });
    try {
      const check = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
      expect(check.pragma("user_version", { simple: true })).toBe(LATEST_VERSION);
      check.close();
      const old = await world.runs.get("wrun_old_sealed");
      expect(old.encrypted).toBe(true);
      expect(old.payloadBytes).toBe(sealed.length + 100 + 20 + 30 + 50);
      const oldPlain = await world.runs.get("wrun_old_plain");
      expect(oldPlain.encrypted).toBe(false);
      expect(oldPlain.payloadBytes).toBe(plain.length + 100);
      const appended = await world.events.append({
        runId: old.runId,
        expectedSeq: 3,
        events: [stepStarted("after", 1, new Uint8Array(10))],
        consumeInbox: ["inbox_old"],
      });
      expect(appended.seq).toBe(4);
      expect(appended.run.payloadBytes).toBe(old.payloadBytes + 10 - 50);
      expect((await world.steps.list(old.runId)).map((step) => step.stepId)).toEqual(["before", "after"]);
    } finally {
      await world.close();
    }
  });
});

describe("local World: upgrading a file written by schema version 4", () => {
  it("keeps the audit entries written before outcome records existed, and takes outcomes after", async () => {
    const db = fileAt(4);
    db.prepare(
      `INSERT INTO audit (audit_id, at, actor_user, actor_host, actor_pid, action, resource, run_ids, reason)
       VALUES ('audit_01OLD0000000000000000000', 5, 'ada', 'h', 1, 'decrypt', 'runs', '["wrun_x"]', 'ticket 1')`,
    ).run();
    db.close();
    const world = createLocalWorld({ dataDir });
    try {
      const outcome = await world.audit.record({
        actor: { user: "ada", host: "h", pid: 2 },
        action: "decrypt",
        resource: "runs",
        runIds: ["wrun_x"],
        refersTo: "audit_01OLD0000000000000000000",
        outcome: "failed",
        detail: "why",
      });
      expect((await world.audit.list({ runId: "wrun_x" })).items).toEqual([
        outcome,
        {
          auditId: "audit_01OLD0000000000000000000",
          at: 5,
          actor: { user: "ada", host: "h", pid: 1 },
          action: "decrypt",
          resource: "runs",
          runIds: ["wrun_x"],
          reason: "ticket 1",
        },
      ]);
    } finally {
      await world.close();
    }
  });
});

describe("local World: upgrading a file written by schema version 6", () => {
  it("cancels the sleeps of runs that had already ended, at the time they ended, and remembers notices", async () => {
    const db = fileAt(6);
    const run = db.prepare(
      `INSERT INTO runs (run_id, workflow_name, status, seq, spec_version, seed, created_at, completed_at, updated_at)
       VALUES (?, 'old/workflow', ?, 3, 2, 'seed', 1, ?, 50)`,
    );
    run.run("wrun_cancelled", "cancelled", 40);
    run.run("wrun_sleeping", "running", null);
    const wait = db.prepare(
      "INSERT INTO waits (run_id, wait_id, resume_at, status, created_at, completed_at) VALUES (?, ?, 99999, ?, 2, ?)",
    );
    wait.run("wrun_cancelled", "wait_open", "waiting", null);
    wait.run("wrun_cancelled", "wait_done", "completed", 30);
    wait.run("wrun_sleeping", "wait_live", "waiting", null);
    db.close();

    const world = createLocalWorld({ dataDir });
    try {
      const of = async (runId: string) =>
        (await world.waits.list({ runId })).map((w) => [w.waitId, w.status, w.completedAt]);
      expect(await of("wrun_cancelled")).toEqual([
        ["wait_open", "cancelled", 40],
        ["wait_done", "completed", 30],
      ]);
      expect(await of("wrun_sleeping")).toEqual([["wait_live", "waiting", undefined]]);
      expect(await world.notices.record("plaintext")).toBe(true);
      expect(await world.notices.record("plaintext")).toBe(false);
    } finally {
      await world.close();
    }
  });
});

describe("local World: upgrading a file written by schema version 7", () => {
  it("keeps its waits as sleeps and its inbox items, and records event waits and events after", async () => {
    const db = fileAt(7);
    db.prepare(
      `INSERT INTO runs (run_id, workflow_name, status, seq, spec_version, seed, created_at, updated_at, payload_bytes)
       VALUES ('wrun_old', 'old/workflow', 'running', 3, 2, 'seed', 1, 50, 5)`,
    ).run();
    db.prepare(
      "INSERT INTO waits (run_id, wait_id, resume_at, status, created_at) VALUES ('wrun_old', 'wait_old', 99999, 'waiting', 2)",
    ).run();
    db.prepare(
      `INSERT INTO inbox (item_id, run_id, kind, hook_id, payload, created_at)
       VALUES ('inbox_old', 'wrun_old', 'hook_payload', 'hook_1', x'0102030405', 3)`,
    ).run();
    db.close();

    const world = createLocalWorld({ dataDir });
    try {
      expect(await world.waits.list({ runId: "wrun_old" })).toEqual([
        {
          runId: "wrun_old",
          waitId: "wait_old",
          kind: "sleep",
          resumeAt: 99999,
          status: "waiting",
          createdAt: 2,
        },
      ]);
      const [old] = await world.inbox.list("wrun_old");
      expect(old).toMatchObject({ itemId: "inbox_old", kind: "hook_payload", hookId: "hook_1" });
      expect(old?.eventType).toBeUndefined();
      // The upgraded file takes the new records.
      await world.inbox.put({ itemId: "evt_1", runId: "wrun_old", kind: "event", eventType: "paid" });
      expect((await world.inbox.list("wrun_old"))[1]).toMatchObject({ itemId: "evt_1", eventType: "paid" });
      await world.events.append({
        runId: "wrun_old",
        expectedSeq: 3,
        events: [
          { type: "event_wait_created", data: { waitId: "wait_new", eventType: "paid", timeoutAt: 5000 } },
          { type: "event_wait_timed_out", data: { waitId: "wait_new" } },
        ],
      });
      expect((await world.waits.list({ runId: "wrun_old" }))[1]).toMatchObject({
        waitId: "wait_new",
        kind: "event",
        eventType: "paid",
        status: "timed_out",
      });
    } finally {
      await world.close();
    }
  });
});

describe("local World: upgrading a file written by schema version 8", () => {
  it("keeps its inbox items (no generation) and takes restart requests and restarts after", async () => {
    const db = fileAt(8);
    db.prepare(
      `INSERT INTO runs (run_id, workflow_name, status, seq, spec_version, seed, created_at, updated_at, payload_bytes)
       VALUES ('wrun_old', 'old/workflow', 'running', 1, 3, 'seed', 1, 50, 0)`,
    ).run();
    db.prepare(
      "INSERT INTO events (run_id, seq, type, data, payload, created_at) VALUES ('wrun_old', 1, 'run_created', '{}', x'00', 1)",
    ).run();
    db.prepare(
      `INSERT INTO inbox (item_id, run_id, kind, hook_id, event_type, payload, created_at)
       VALUES ('evt_old', 'wrun_old', 'event', NULL, 'paid', NULL, 3)`,
    ).run();
    db.close();

    const world = createLocalWorld({ dataDir });
    try {
      const [old] = await world.inbox.list("wrun_old");
      expect(old).toMatchObject({ itemId: "evt_old", kind: "event", eventType: "paid" });
      expect(old?.generation).toBeUndefined();
      await world.inbox.put({ itemId: "inbox_r", runId: "wrun_old", kind: "restart", generation: 1 });
      expect((await world.inbox.list("wrun_old"))[1]).toMatchObject({ kind: "restart", generation: 1 });
      await world.events.append({
        runId: "wrun_old",
        expectedSeq: 1,
        events: [{ type: "run_cancelled", data: {} }],
      });
      const restarted = await world.events.append({
        runId: "wrun_old",
        expectedSeq: 2,
        events: [{ type: "run_restarted", data: { generation: 2, fromCall: 0 } }],
      });
      expect(restarted.run).toMatchObject({ status: "pending", seq: 3 });
      expect((await world.runs.get("wrun_old")).completedAt).toBeUndefined();
    } finally {
      await world.close();
    }
  });
});

describe("local World: upgrading a file written by schema version 10", () => {
  it("backfills each run's version from its log (the latest hash it names) and keeps it after", async () => {
    const db = fileAt(10);
    const insertRun = db.prepare(
      `INSERT INTO runs (run_id, workflow_name, status, seq, spec_version, seed, created_at, updated_at, payload_bytes)
       VALUES (?, 'old/workflow', 'running', ?, 4, 'seed', 1, 50, 0)`,
    );
    const insertEvent = db.prepare(
      "INSERT INTO events (run_id, seq, type, data, payload, created_at) VALUES (?, ?, ?, ?, ?, 1)",
    );
    const a = "a".repeat(64);
    const b = "b".repeat(64);
    // Pinned at creation; pinned by its first worker (a client started it); older than pinning.
    insertRun.run("wrun_created", 2);
    insertEvent.run("wrun_created", 1, "run_created", JSON.stringify({ bundleHash: a }), Buffer.from([0]));
    insertEvent.run("wrun_created", 2, "run_started", "{}", null);
    insertRun.run("wrun_started", 2);
    insertEvent.run("wrun_started", 1, "run_created", "{}", Buffer.from([0]));
    insertEvent.run("wrun_started", 2, "run_started", JSON.stringify({ bundleHash: b }), null);
    insertRun.run("wrun_unpinned", 2);
    insertEvent.run("wrun_unpinned", 1, "run_created", "{}", Buffer.from([0]));
    insertEvent.run("wrun_unpinned", 2, "run_started", "{}", null);
    db.close();

    const world = createLocalWorld({ dataDir });
    try {
      expect((await world.runs.get("wrun_created")).bundleHash).toBe(a);
      expect((await world.runs.get("wrun_started")).bundleHash).toBe(b);
      expect(await world.runs.get("wrun_unpinned")).not.toHaveProperty("bundleHash");
      await world.events.append({
        runId: "wrun_unpinned",
        expectedSeq: 2,
        events: [{ type: "run_upgraded", data: { toHash: a } }],
      });
      expect(await world.runs.get("wrun_unpinned")).toMatchObject({ bundleHash: a, specVersion: 5 });
      expect((await world.runs.list()).items.map((run) => run.bundleHash ?? null).sort()).toEqual([a, a, b]);
    } finally {
      await world.close();
    }
  });
});
