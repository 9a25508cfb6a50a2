/**
 * The local World's migration 12 (messages carry their run's code version, for claims filtered by
 * version): a database written before it, with messages of pinned and unpinned runs waiting and
 * leased, is upgraded at open; every old message is claimable by a claim for its run's version
 * (or by any version while its run is not pinned), and follows its run when the run is pinned.
 * And the plans of the version-filtered statements: each reads `queue_waiting_by_version` by
 * version (and workflow), never a pass over the queue, so another version's backlog is not read.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { APPLICATION_ID, LATEST_VERSION, MIGRATIONS } from "../../src/worlds/local/migrations.ts";
import type { Stmt } from "../../src/worlds/local/statements.ts";
import { prepareVersionClaimStatements } from "../../src/worlds/local/version-claim-statements.ts";

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "stepwise-local-"));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** A database file as Stepwise with schema `version` left it (its migrations, nothing after). */
function fileAt(version: number): Database.Database {
  const db = new Database(join(dataDir, "stepwise.db"));
  db.pragma("journal_mode = WAL");
  for (const migration of MIGRATIONS) if (migration.version <= version) db.exec(migration.sql);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma(`user_version = ${version}`);
  return db;
}

const V1 = "1".repeat(64);
const V2 = "2".repeat(64);

it("upgrades a database from before migration 12: old messages are claimed by their run's version", async () => {
  // As version 11 stored them: a run pinned to V1 (its start message claimed, the lease since run
  // out), one pinned to V2 and one not pinned yet (their start messages waiting).
  const db = fileAt(11);
  const run = db.prepare(
    `INSERT INTO runs (run_id, workflow_name, status, seq, spec_version, seed, created_at, updated_at, bundle_hash)
     VALUES (?, 'workflow//a.py//a', 'pending', 1, 4, 'seed', 1, 1, ?)`,
  );
  const event = db.prepare(
    "INSERT INTO events (run_id, seq, type, data, payload, created_at) VALUES (?, 1, 'run_created', '{}', ?, 1)",
  );
  const message = db.prepare(
    `INSERT INTO queue (message_id, run_id, kind, available_at, deliveries, lease_owner, lease_expires_at, created_at, workflow_name)
     VALUES (?, ?, 'start', 1, ?, ?, ?, 1, 'workflow//a.py//a')`,
  );
  for (const [runId, hash] of [
    ["wrun_v1", V1],
    ["wrun_v2", V2],
    ["wrun_none", null],
  ] as const) {
    run.run(runId, hash);
    event.run(runId, Buffer.from([1, 91, 93]));
  }
  message.run("msg_v1", "wrun_v1", 1, "old-owner", 2);
  message.run("msg_v2", "wrun_v2", 0, null, null);
  message.run("msg_none", "wrun_none", 0, null, null);
  db.close();

  const world = createLocalWorld({ dataDir });
  try {
    const file = new Database(join(dataDir, "stepwise.db"), { readonly: true });
    expect(file.pragma("user_version", { simple: true })).toBe(LATEST_VERSION);
    file.close();
    const forV1 = await world.queue.claim("w1", { limit: 10, leaseMs: 60_000, versions: [V1] });
    expect(forV1.map((m) => [m.messageId, m.deliveries]).sort()).toEqual([
      ["msg_none", 1],
      ["msg_v1", 2],
    ]);
    // The unpinned run's worker pins it to V1: its message, released, is V1's alone now.
    await world.events.append({
      runId: "wrun_none",
      expectedSeq: 1,
      events: [{ type: "run_started", data: { bundleHash: V1 } }],
    });
    await world.queue.release("w1", "msg_none");
    expect(await world.queue.claim("w2", { limit: 10, leaseMs: 60_000, versions: [V2] })).toMatchObject([
      { messageId: "msg_v2" },
    ]);
    expect(await world.queue.claim("w1", { limit: 10, leaseMs: 60_000, versions: [V1] })).toMatchObject([
      { messageId: "msg_none" },
    ]);
  } finally {
    await world.close();
  }
});

it("reads waiting messages by version (and workflow) through queue_waiting_by_version, never a scan", () => {
  const db = fileAt(LATEST_VERSION);
  try {
    db.function("stepwise_lease_wall", { varargs: true }, () => 0);
    db.function("stepwise_lease_expired", { varargs: true }, () => 0);
    // The statements' sources, in the order the factory prepares them (its properties' order).
    const prepared: string[] = [];
    const statements = prepareVersionClaimStatements(
      <P extends unknown[], R = unknown>(source: string) => {
        prepared.push(source);
        const stmt = { pluck: () => stmt } as unknown as Stmt<P, R>;
        return stmt;
      },
      "message_id",
      "stepwise_lease_expired(lease_expires_at, lease_clock, lease_until)",
    );
    const names = Object.keys(statements);
    expect(prepared).toHaveLength(names.length);
    const sources = new Map(names.map((name, index) => [name, prepared[index] ?? ""]));
    const params = {
      owner: "o",
      expiresAt: 1,
      clock: null,
      until: null,
      now: 1,
      dead: "[]",
      limit: 10,
      versions: '[""]',
      workflows: '["w"]',
    };
    const plan = (name: string): string => {
      const source = sources.get(name) ?? "";
      const used = Object.fromEntries(Object.entries(params).filter(([key]) => source.includes(`@${key}`)));
      return db
        .prepare(`EXPLAIN QUERY PLAN ${source}`)
        .all(used)
        .map((row) => (row as { detail: string }).detail)
        .join("\n");
    };
    for (const name of ["claimForVersionsAndWorkflows", "nextWaitingForVersionsAndWorkflows"]) {
      expect(plan(name), name).toMatch(
        /SEARCH queue USING INDEX queue_waiting_by_version \(version=\? AND workflow_name=\?/,
      );
    }
    for (const name of ["claimForVersions", "nextWaitingForVersions"]) {
      expect(plan(name), name).toMatch(/SEARCH queue USING INDEX queue_waiting_by_version \(version=\?/);
    }
    for (const name of names) expect(plan(name), name).not.toMatch(/SCAN queue\b/);
  } finally {
    db.close();
  }
});
