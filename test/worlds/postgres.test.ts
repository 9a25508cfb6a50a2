/**
 * Runs the World conformance suite against the postgres World on a throwaway server (each test on a
 * fresh schema, with a clock the tests drive, group commit on and off), and tests what only the
 * postgres World has: migrations (applied once by racing workers, refused when newer, `migrate()`
 * for operators), errors that name the server and the reason, and handles that never keep the
 * process alive. Racing Worlds and server restarts are in the other postgres-*.test.ts files.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors/runtime.ts";
import type { NewEvent } from "../../src/world/events.ts";
import {
  createRun,
  expectReject,
  nextNotification,
  runInput,
  snapshot,
  startedRun,
  stepStarted,
  utf8,
} from "../../src/world/testing/fixtures.ts";
import { describeWorldConformance } from "../../src/world/testing/index.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import {
  createPostgresWorld,
  migrate,
  type PostgresWorldOptions,
  WorldUnavailableError,
} from "../../src/worlds/postgres/index.ts";
import { LATEST_VERSION, MIGRATIONS } from "../../src/worlds/postgres/migrations/index.ts";
import { type PostgresServer, startPostgres } from "../helpers/postgres.ts";

let server: PostgresServer | undefined;
let url = "";
let admin: pg.Client;
beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase();
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
}, 120_000);
afterAll(async () => {
  await admin?.end();
  await server?.stop();
});

let schemas = 0;
const nextSchema = (prefix = "s") => `${prefix}_${++schemas}`;

function conformance(name: string, options: PostgresWorldOptions): void {
  describeWorldConformance(name, async () => {
    let time = 1_700_000_000_000;
    const world = await createPostgresWorld({
      connectionString: url,
      schema: nextSchema("conf"),
      now: () => time,
      ...options,
    });
    return {
      world,
      clock: {
        now: () => time,
        advance: (ms) => {
          time += ms;
        },
      },
      cleanup: () => world.close(),
    };
  });
}

conformance("postgres", {});
conformance("postgres (group commit off)", { groupCommit: false });

/** Every migration's version, in order. */
const ALL_VERSIONS = MIGRATIONS.map((migration) => migration.version);

async function versions(schema: string): Promise<number[]> {
  const result = await admin.query<{ version: number }>(
    `SELECT version FROM "${schema}".schema_migrations ORDER BY version`,
  );
  return result.rows.map((row) => row.version);
}

describe("postgres World: schema and migrations", () => {
  it("migrates a fresh schema at start, recording every version", async () => {
    const schema = nextSchema();
    const world = await createPostgresWorld({ connectionString: url, schema });
    await createRun(world);
    await world.close();
    expect(await versions(schema)).toEqual(ALL_VERSIONS);
  });

  it("workers opening a fresh schema at the same moment migrate it exactly once", async () => {
    const schema = nextSchema();
    const worlds = await Promise.all(
      Array.from({ length: 6 }, () => createPostgresWorld({ connectionString: url, schema, poolSize: 2 })),
    );
    const runs = await Promise.all(worlds.map((world) => createRun(world)));
    expect(new Set(runs.map((run) => run.runId)).size).toBe(6);
    await Promise.all(worlds.map((world) => world.close()));
    expect(await versions(schema)).toEqual(ALL_VERSIONS);
  });

  it("migrate() brings a schema up to date for operators, and is idempotent", async () => {
    const schema = nextSchema();
    expect(await migrate(url, { schema })).toEqual({ schema, from: 0, to: LATEST_VERSION });
    expect(await migrate(url, { schema })).toEqual({ schema, from: LATEST_VERSION, to: LATEST_VERSION });
    const world = await createPostgresWorld({ connectionString: url, schema, migrate: false });
    await createRun(world);
    await world.close();
  });

  /** A schema as an older Stepwise left it: migrations 1..version applied, nothing after. */
  async function schemaAt(schema: string, version: number): Promise<void> {
    const s = `"${schema}"`;
    await admin.query("BEGIN");
    await admin.query(`CREATE SCHEMA ${s}`);
    await admin.query(
      `CREATE TABLE ${s}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    for (const migration of MIGRATIONS.slice(0, version)) {
      await admin.query(migration.sql(s));
      await admin.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
    await admin.query("COMMIT");
  }

  it("upgrades a schema with runs in it from version 3, keeping them and their ongoing appends", async () => {
    const schema = nextSchema();
    await schemaAt(schema, 3);
    expect(await versions(schema)).toEqual([1, 2, 3]);
    // Runs as version 3 stored them: one encrypted (its input starts with 0x02), one in clear, with
    // payloads in events, stream chunks and the inbox.
    const s = `"${schema}"`;
    const sealed = Buffer.from([2, ...new Array(40).fill(9)]);
    const plain = Buffer.from([1, 65, 66]);
    for (const [runId, input] of [
      ["wrun_old_sealed", sealed],
      ["wrun_old_plain", plain],
    ] as const) {
      await admin.query(
        `INSERT INTO ${s}.runs (run_id, workflow_name, status, seq, spec_version, seed, created_at, updated_at)
         VALUES ($1, 'old/workflow', 'running', 3, 1, 'seed', 1, 1)`,
        [runId],
      );
      await admin.query(
        `INSERT INTO ${s}.events (run_id, seq, type, data, payload, created_at) VALUES
           ($1, 1, 'run_created', '{}', $2, 1),
           ($1, 2, 'run_started', '{}', NULL, 1),
           ($1, 3, 'step_started', '{"stepId":"before","stepName":"s","attempt":1}', $3, 1)`,
        [runId, input, Buffer.alloc(100, 7)],
      );
      await admin.query(
        `INSERT INTO ${s}.steps (run_id, step_id, step_name, status, attempt, first_seq, input_seq,
                                 created_at, started_at, updated_at)
         VALUES ($1, 'before', 's', 'running', 1, 3, 3, 1, 1, 1)`,
        [runId],
      );
    }
    await admin.query(
      `INSERT INTO ${s}.streams (run_id, name, length, closed, created_at) VALUES ('wrun_old_sealed', 'default', 2, false, 1)`,
    );
    await admin.query(
      `INSERT INTO ${s}.stream_chunks (run_id, name, idx, data, created_at) VALUES
         ('wrun_old_sealed', 'default', 0, $1, 1), ('wrun_old_sealed', 'default', 1, $2, 1)`,
      [Buffer.alloc(20), Buffer.alloc(30)],
    );
    await admin.query(
      `INSERT INTO ${s}.inbox (item_id, run_id, kind, hook_id, payload, created_at)
       VALUES ('inbox_old', 'wrun_old_sealed', 'hook_payload', 'hook_1', $1, 1)`,
      [Buffer.alloc(50)],
    );
    await admin.query(
      `INSERT INTO ${s}.queue (message_id, run_id, kind, available_at, created_at)
       VALUES ('msg_old', 'wrun_old_plain', 'wake', 5, 1)`,
    );

    // Not current, so refused without migrating; then migrated at start.
    await expectReject(createPostgresWorld({ connectionString: url, schema, migrate: false }), ConfigError);
    const reopened = await createPostgresWorld({ connectionString: url, schema });
    expect(await versions(schema)).toEqual(ALL_VERSIONS);
    const old = await reopened.runs.get("wrun_old_sealed");
    expect(old.encrypted).toBe(true);
    expect(old.payloadBytes).toBe(sealed.length + 100 + 20 + 30 + 50);
    const oldPlain = await reopened.runs.get("wrun_old_plain");
    expect(oldPlain.encrypted).toBe(false);
    expect(oldPlain.payloadBytes).toBe(plain.length + 100);
    expect((await reopened.events.list(old.runId)).map((event) => event.seq)).toEqual([1, 2, 3]);
    // Migration 007 gave the waiting message its run's workflow.
    expect(await reopened.queue.nextAvailableAt({ workflows: ["other"] })).toBeUndefined();
    expect(await reopened.queue.nextAvailableAt({ workflows: ["old/workflow"] })).toBe(5);
    const appended = await reopened.events.append({
      runId: old.runId,
      expectedSeq: 3,
      events: [stepStarted("after", 1, new Uint8Array(10))],
      consumeInbox: ["inbox_old"],
    });
    expect(appended.seq).toBe(4);
    expect(appended.run.payloadBytes).toBe(old.payloadBytes + 10 - 50);
    expect((await reopened.steps.list(old.runId)).map((step) => step.stepId)).toEqual(["before", "after"]);
    const written = await reopened.streams.write(old.runId, "default", [new Uint8Array(5)], {
      maxRunBytes: 1_000,
    });
    expect(written.length).toBe(3);
    await reopened.close();
  });

  it("upgrades the audit trail to outcome records (008), keeping the entries written before", async () => {
    const schema = nextSchema();
    await schemaAt(
      schema,
      MIGRATIONS.findIndex((migration) => migration.version === 8),
    );
    await admin.query(
      `INSERT INTO "${schema}".audit (audit_id, at, actor_user, actor_host, actor_pid, action, resource, run_ids, reason)
       VALUES ('audit_01OLD0000000000000000000', 5, 'ada', 'h', 1, 'decrypt', 'runs', ARRAY['wrun_x'], 'ticket 1')`,
    );
    const world = await createPostgresWorld({ connectionString: url, schema });
    try {
      expect(await versions(schema)).toEqual(ALL_VERSIONS);
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

  it("upgrades to 009: sleeps of runs that had ended are cancelled at their run's end, notices are remembered", async () => {
    const schema = nextSchema();
    await schemaAt(
      schema,
      MIGRATIONS.findIndex((migration) => migration.version === 9),
    );
    expect(await versions(schema)).toEqual(ALL_VERSIONS.filter((version) => version < 9));
    const s = `"${schema}"`;
    for (const [runId, status, completedAt] of [
      ["wrun_cancelled", "cancelled", 40],
      ["wrun_sleeping", "running", null],
    ] as const) {
      await admin.query(
        `INSERT INTO ${s}.runs (run_id, workflow_name, status, seq, spec_version, seed, created_at, completed_at, updated_at)
         VALUES ($1, 'old/workflow', $2, 3, 2, 'seed', 1, $3, 50)`,
        [runId, status, completedAt],
      );
    }
    await admin.query(
      `INSERT INTO ${s}.waits (run_id, wait_id, resume_at, status, created_at, completed_at) VALUES
         ('wrun_cancelled', 'wait_open', 99999, 'waiting', 2, NULL),
         ('wrun_cancelled', 'wait_done', 99999, 'completed', 2, 30),
         ('wrun_sleeping', 'wait_live', 99999, 'waiting', 2, NULL)`,
    );
    const world = await createPostgresWorld({ connectionString: url, schema });
    try {
      expect(await versions(schema)).toEqual(ALL_VERSIONS);
      const of = async (runId: string) =>
        (await world.waits.list({ runId })).map((w) => [w.waitId, w.status, w.completedAt]);
      expect(await of("wrun_cancelled")).toEqual([
        ["wait_open", "cancelled", 40],
        ["wait_done", "completed", 30],
      ]);
      expect(await of("wrun_sleeping")).toEqual([["wait_live", "waiting", undefined]]);
      // The new append function cancels a sleep as its run ends.
      await world.events.append({
        runId: "wrun_sleeping",
        expectedSeq: 3,
        events: [{ type: "run_cancelled", data: {} }],
      });
      expect((await of("wrun_sleeping"))[0]?.[1]).toBe("cancelled");
      expect(await world.notices.record("plaintext")).toBe(true);
      expect(await world.notices.record("plaintext")).toBe(false);
    } finally {
      await world.close();
    }
  });

  it("upgrades to 010: waits stay sleeps, inbox items keep their hooks, and event waits and events are recorded", async () => {
    const schema = nextSchema();
    await schemaAt(
      schema,
      MIGRATIONS.findIndex((migration) => migration.version === 10),
    );
    expect(await versions(schema)).toEqual(ALL_VERSIONS.filter((version) => version < 10));
    const s = `"${schema}"`;
    await admin.query(
      `INSERT INTO ${s}.runs (run_id, workflow_name, status, seq, spec_version, seed, created_at, updated_at, payload_bytes)
       VALUES ('wrun_old', 'old/workflow', 'running', 3, 2, 'seed', 1, 50, 5)`,
    );
    await admin.query(
      `INSERT INTO ${s}.waits (run_id, wait_id, resume_at, status, created_at)
       VALUES ('wrun_old', 'wait_old', 99999, 'waiting', 2)`,
    );
    await admin.query(
      `INSERT INTO ${s}.inbox (item_id, run_id, kind, hook_id, payload, created_at)
       VALUES ('inbox_old', 'wrun_old', 'hook_payload', 'hook_1', '\\x0102030405', 3)`,
    );
    const world = await createPostgresWorld({ connectionString: url, schema });
    try {
      expect(await versions(schema)).toEqual(ALL_VERSIONS);
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
      await world.inbox.put({ itemId: "evt_1", runId: "wrun_old", kind: "event", eventType: "paid" });
      expect((await world.inbox.list("wrun_old"))[1]).toMatchObject({ itemId: "evt_1", eventType: "paid" });
      // The new append function writes event waits and their outcomes.
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

  it("upgrades to 011: inbox items keep no generation, and restart requests and restarts are recorded", async () => {
    const schema = nextSchema();
    await schemaAt(
      schema,
      MIGRATIONS.findIndex((migration) => migration.version === 11),
    );
    const s = `"${schema}"`;
    await admin.query(
      `INSERT INTO ${s}.runs (run_id, workflow_name, status, seq, spec_version, seed, created_at, updated_at, payload_bytes)
       VALUES ('wrun_old', 'old/workflow', 'running', 1, 3, 'seed', 1, 50, 0)`,
    );
    await admin.query(
      `INSERT INTO ${s}.events (run_id, seq, type, data, payload, created_at)
       VALUES ('wrun_old', 1, 'run_created', '{}', '\\x00', 1)`,
    );
    await admin.query(
      `INSERT INTO ${s}.inbox (item_id, run_id, kind, event_type, created_at)
       VALUES ('evt_old', 'wrun_old', 'event', 'paid', 3)`,
    );
    const world = await createPostgresWorld({ connectionString: url, schema });
    try {
      expect(await versions(schema)).toEqual(ALL_VERSIONS);
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

  it("upgrades to 013: each run's version is backfilled from its log, and kept by appends after", async () => {
    const schema = nextSchema();
    await schemaAt(
      schema,
      MIGRATIONS.findIndex((migration) => migration.version === 13),
    );
    const s = `"${schema}"`;
    const a = "a".repeat(64);
    const b = "b".repeat(64);
    for (const runId of ["wrun_created", "wrun_started", "wrun_unpinned"]) {
      await admin.query(
        `INSERT INTO ${s}.runs (run_id, workflow_name, status, seq, spec_version, seed, created_at, updated_at, payload_bytes)
         VALUES ($1, 'old/workflow', 'running', 2, 4, 'seed', 1, 50, 0)`,
        [runId],
      );
    }
    const events: [string, number, string, object][] = [
      ["wrun_created", 1, "run_created", { bundleHash: a }],
      ["wrun_created", 2, "run_started", {}],
      ["wrun_started", 1, "run_created", {}],
      ["wrun_started", 2, "run_started", { bundleHash: b }],
      ["wrun_unpinned", 1, "run_created", {}],
      ["wrun_unpinned", 2, "run_started", {}],
    ];
    for (const [runId, seq, type, data] of events) {
      await admin.query(
        `INSERT INTO ${s}.events (run_id, seq, type, data, payload, created_at)
         VALUES ($1, $2, $3, $4::jsonb, CASE WHEN $2 = 1 THEN '\\x00'::bytea END, 1)`,
        [runId, seq, type, JSON.stringify(data)],
      );
    }
    const world = await createPostgresWorld({ connectionString: url, schema });
    try {
      expect(await versions(schema)).toEqual(ALL_VERSIONS);
      expect((await world.runs.get("wrun_created")).bundleHash).toBe(a);
      expect((await world.runs.get("wrun_started")).bundleHash).toBe(b);
      expect(await world.runs.get("wrun_unpinned")).not.toHaveProperty("bundleHash");
      await world.events.append({
        runId: "wrun_unpinned",
        expectedSeq: 2,
        events: [{ type: "run_upgraded", data: { toHash: a } }],
      });
      expect(await world.runs.get("wrun_unpinned")).toMatchObject({ bundleHash: a, specVersion: 5 });
    } finally {
      await world.close();
    }
  });

  it("upgrades to 014: old messages are claimed by their run's version, and follow a new pin", async () => {
    const schema = nextSchema();
    await schemaAt(
      schema,
      MIGRATIONS.findIndex((migration) => migration.version === 14),
    );
    const s = `"${schema}"`;
    const [v1, v2] = ["1".repeat(64), "2".repeat(64)];
    for (const [runId, hash] of [
      ["wrun_v1", v1],
      ["wrun_v2", v2],
      ["wrun_none", null],
    ] as const) {
      await admin.query(
        `INSERT INTO ${s}.runs (run_id, workflow_name, status, seq, spec_version, seed, created_at, updated_at, payload_bytes, bundle_hash)
         VALUES ($1, 'old/workflow', 'pending', 1, 4, 'seed', 1, 1, 1, $2)`,
        [runId, hash],
      );
      await admin.query(
        `INSERT INTO ${s}.events (run_id, seq, type, data, payload, created_at)
         VALUES ($1, 1, 'run_created', '{}'::jsonb, '\\x00'::bytea, 1)`,
        [runId],
      );
      await admin.query(
        `INSERT INTO ${s}.queue (message_id, run_id, kind, available_at, created_at)
         VALUES ($1, $2, 'start', 1, 1)`,
        [`msg_${runId}`, runId],
      );
    }
    const world = await createPostgresWorld({ connectionString: url, schema });
    try {
      expect(await versions(schema)).toEqual(ALL_VERSIONS);
      const forV1 = await world.queue.claim("w1", { limit: 10, leaseMs: 60_000, versions: [v1] });
      expect(forV1.map((m) => m.messageId).sort()).toEqual(["msg_wrun_none", "msg_wrun_v1"]);
      // The unpinned run's worker pins it to v1: its message, released, is v1's alone now.
      await world.events.append({
        runId: "wrun_none",
        expectedSeq: 1,
        events: [{ type: "run_started", data: { bundleHash: v1 } }],
      });
      await world.queue.release("w1", "msg_wrun_none");
      expect(await world.queue.claim("w2", { limit: 10, leaseMs: 60_000, versions: [v2] })).toMatchObject([
        { messageId: "msg_wrun_v2" },
      ]);
      expect(await world.queue.claim("w1", { limit: 10, leaseMs: 60_000, versions: [v1] })).toMatchObject([
        { messageId: "msg_wrun_none" },
      ]);
    } finally {
      await world.close();
    }
  });

  it("with migrate: false, an unmigrated schema is refused, saying to run the migration", async () => {
    const schema = nextSchema();
    const error = await expectReject(
      createPostgresWorld({ connectionString: url, schema, migrate: false }),
      ConfigError,
    );
    expect(error.message).toMatch(/npx stepwise migrate/);
  });

  it("refuses a schema newer than this code, saying so, and changes nothing", async () => {
    const schema = nextSchema();
    const world = await createPostgresWorld({ connectionString: url, schema });
    const run = await startedRun(world);
    const before = await snapshot(world, [run.runId]);
    await world.close();
    await admin.query(
      `INSERT INTO "${schema}".schema_migrations (version, name) VALUES ($1, 'from the future')`,
      [LATEST_VERSION + 1],
    );
    for (const attempt of [
      () => createPostgresWorld({ connectionString: url, schema }),
      () => migrate(url, { schema }),
    ]) {
      const error = await expectReject(attempt(), ConfigError, true);
      expect(error.message).toMatch(/newer/);
      expect(error.message).toContain(`version ${LATEST_VERSION + 1}`);
      expect(error.message).toContain(`127.0.0.1:${server?.port}`);
    }
    await admin.query(`DELETE FROM "${schema}".schema_migrations WHERE version = $1`, [LATEST_VERSION + 1]);
    const reopened = await createPostgresWorld({ connectionString: url, schema });
    expect(await snapshot(reopened, [run.runId])).toEqual(before);
    await reopened.close();
  });

  it("keeps everything across close and reopen", async () => {
    const schema = nextSchema();
    const world = await createPostgresWorld({ connectionString: url, schema });
    const run = await startedRun(world);
    await world.events.append({
      runId: run.runId,
      expectedSeq: 2,
      events: [
        stepStarted("s1", 1, utf8("in")),
        { type: "step_completed", data: { stepId: "s1", attempt: 1 }, payload: utf8("out") },
        { type: "wait_created", data: { waitId: "w1", resumeAt: 5 } },
        { type: "hook_created", data: { hookId: "hook_1", token: "tok", kind: "hook" } },
      ],
      enqueue: [{ runId: run.runId, kind: "wake", availableAt: Date.now() + 60_000 }],
    });
    await world.inbox.put({ runId: run.runId, kind: "hook_payload", hookId: "hook_1", payload: utf8("p") });
    await world.streams.write(run.runId, "out", [utf8("chunk")], { close: true });
    const before = await snapshot(world, [run.runId]);
    await world.close();
    const reopened = await createPostgresWorld({ connectionString: url, schema });
    expect(await snapshot(reopened, [run.runId])).toEqual(before);
    await reopened.close();
  });

  it("rejects schema names that are not plain identifiers", async () => {
    await expectReject(
      createPostgresWorld({ connectionString: url, schema: 'x"; DROP TABLE y; --' }),
      ConfigError,
    );
  });
});

describe("postgres World: projections as the memory World keeps them", () => {
  const step = (stepId: string, attempt: number, payload?: Uint8Array): NewEvent =>
    ({ ...stepStarted(stepId, attempt, payload), createdAt: 1000 + attempt }) as NewEvent;
  const appends: NewEvent[][] = [
    [{ type: "run_started", data: {} }, step("a", 1, utf8("in-a")), step("b", 1)],
    [
      {
        type: "step_retrying",
        data: { stepId: "a", attempt: 1, retryAt: 5000 },
        payload: utf8("e1"),
        createdAt: 2000,
      },
      step("a", 2),
      { type: "step_completed", data: { stepId: "b", attempt: 1 }, payload: utf8("out-b"), createdAt: 2100 },
      { type: "step_completed", data: { stepId: "z", attempt: 1 }, createdAt: 2150 },
      step("c", 1, utf8("in-c")),
      { type: "step_retrying", data: { stepId: "c", attempt: 1, retryAt: 6000 }, createdAt: 2200 },
      step("c", 2),
      {
        type: "step_failed",
        data: { stepId: "c", attempt: 2, fatal: true },
        payload: utf8("fatal"),
        createdAt: 2300,
      },
    ],
    [
      { type: "step_completed", data: { stepId: "a", attempt: 2 }, payload: utf8("out-a"), createdAt: 3000 },
      step("a", 3),
      { type: "step_completed", data: { stepId: "a", attempt: 3 }, createdAt: 3100 },
      { type: "step_completed", data: { stepId: "y", attempt: 1 }, createdAt: 3150 },
      step("y", 1),
    ],
  ];

  it("steps folded to one write each come out as the memory World's, event by event", async () => {
    const world = await createPostgresWorld({ connectionString: url, schema: nextSchema(), now: () => 500 });
    const reference = createMemoryWorld({ now: () => 500 });
    const input = runInput();
    for (const target of [world, reference]) {
      await target.runs.create(input);
      let seq = 1;
      for (const events of appends)
        seq = (await target.events.append({ runId: input.runId, expectedSeq: seq, events })).seq;
    }
    const ours = await world.steps.list(input.runId);
    expect(ours).toEqual(await reference.steps.list(input.runId));
    expect(ours.map((s) => [s.stepId, s.status, s.attempt])).toEqual([
      ["a", "completed", 3],
      ["b", "completed", 1],
      ["c", "failed", 2],
      ["y", "running", 1],
    ]);
    await world.close();
    await reference.close();
  });
});

describe("postgres World: configuration and connection errors", () => {
  const withEnv = async (value: string | undefined, fn: () => Promise<void>) => {
    const saved = process.env.STEPWISE_POSTGRES_URL;
    if (value === undefined) delete process.env.STEPWISE_POSTGRES_URL;
    else process.env.STEPWISE_POSTGRES_URL = value;
    try {
      await fn();
    } finally {
      if (saved === undefined) delete process.env.STEPWISE_POSTGRES_URL;
      else process.env.STEPWISE_POSTGRES_URL = saved;
    }
  };

  it("reads STEPWISE_POSTGRES_URL, and says to set it when it is missing", async () => {
    await withEnv(undefined, async () => {
      const error = await expectReject(createPostgresWorld(), ConfigError, true);
      expect(error.message).toContain("STEPWISE_POSTGRES_URL");
    });
    await withEnv(url, async () => {
      const world = await createPostgresWorld({ schema: nextSchema() });
      await createRun(world);
      await world.close();
    });
  });

  it("a malformed connection string is a ConfigError showing the expected form", async () => {
    for (const bad of ["not a url", "mysql://localhost/db"]) {
      const error = await expectReject(createPostgresWorld({ connectionString: bad }), ConfigError, true);
      expect(error.message).toContain("postgres://");
    }
  });

  it("a refused port names the host, the port and the reason", async () => {
    const port = await closedPort();
    const error = await expectReject(
      createPostgresWorld({
        connectionString: `postgres://postgres@127.0.0.1:${port}/db`,
        startupTimeoutMs: 0,
      }),
      WorldUnavailableError,
      true,
    );
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toMatch(/refused the connection \(ECONNREFUSED\)/);
    expect(error.stack).toBeDefined();
  });

  it("waits up to startupTimeoutMs for a server that refuses connections, then says why", async () => {
    const port = await closedPort();
    const started = Date.now();
    await expectReject(
      createPostgresWorld({
        connectionString: `postgres://postgres@127.0.0.1:${port}/db`,
        startupTimeoutMs: 700,
      }),
      WorldUnavailableError,
      true,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("an unknown database, an unknown user and an unknown host are ConfigErrors naming them", async () => {
    const base = new URL(url);
    const database = new URL(url);
    database.pathname = "/no_such_database";
    const dbError = await expectReject(
      createPostgresWorld({ connectionString: database.href }),
      ConfigError,
      true,
    );
    expect(dbError.message).toContain('no database "no_such_database"');
    expect(dbError.message).toContain(`${base.hostname}:${base.port}`);

    const user = new URL(url);
    user.username = "nobody_here";
    const userError = await expectReject(
      createPostgresWorld({ connectionString: user.href }),
      ConfigError,
      true,
    );
    expect(userError.message).toContain('user "nobody_here"');

    const host = await expectReject(
      createPostgresWorld({ connectionString: "postgres://postgres@no-such-host.invalid:5432/db" }),
      ConfigError,
      true,
    );
    expect(host.message).toContain('"no-such-host.invalid" was not found');
  });
});

describe("postgres World: lifecycle", () => {
  it("keeps no handle alive: idle connections, LISTEN and timers are unref'd", async () => {
    await new Promise((resolve) => setTimeout(resolve, 300)); // let earlier tests' handles go
    const before = activeHandles();
    const world = await createPostgresWorld({ connectionString: url, schema: nextSchema() });
    const heard = nextNotification(world, (n) => n.type === "run");
    const unsubscribe = world.subscribe(() => {});
    const run = await startedRun(world);
    await world.events.append({ runId: run.runId, expectedSeq: 2, events: [stepStarted("a")] });
    await heard.promise;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(activeHandles()).toEqual(before);
    unsubscribe();
    await world.close();
    expect(activeHandles()).toEqual(before);
  });

  it("close drains pending appends and ends its own pool, but not a pool it was given", async () => {
    const pool = new pg.Pool({ connectionString: url, max: 3 });
    const world = await createPostgresWorld({ pool, schema: nextSchema() });
    const run = await startedRun(world);
    const pending = world.events.append({ runId: run.runId, expectedSeq: 2, events: [stepStarted("a")] });
    await world.close();
    expect((await pending).seq).toBe(3);
    expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await pool.end();
  });
});

/** Sockets and timers keeping the process alive (the ones a World could leave behind). */
function activeHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === "TCPSocketWrap" || kind === "Timeout") counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 1;
      probe.close(() => resolve(port));
    });
  });
}
