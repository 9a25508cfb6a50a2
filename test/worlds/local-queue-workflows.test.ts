/**
 * The local World's migration 5 (messages carry their run's workflow, for claims filtered by
 * workflow): a database written before it, with messages waiting and leased, is upgraded at open,
 * and every old message is claimable by a claim for its run's workflow and by no other.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { APPLICATION_ID, LATEST_VERSION, MIGRATIONS } from "../../src/worlds/local/migrations.ts";

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

it("upgrades a database from before migration 5: old messages are claimed by their run's workflow only", async () => {
  // As version 4 stored them: two runs, a's start message claimed (its lease since run out), b's
  // start and wake messages waiting.
  const db = fileAt(4);
  const run = db.prepare(
    `INSERT INTO runs (run_id, workflow_name, status, seq, spec_version, seed, created_at, updated_at)
     VALUES (?, ?, 'pending', 1, 2, 'seed', 1, 1)`,
  );
  const event = db.prepare(
    "INSERT INTO events (run_id, seq, type, data, payload, created_at) VALUES (?, 1, 'run_created', '{}', ?, 1)",
  );
  const message = db.prepare(
    `INSERT INTO queue (message_id, run_id, kind, available_at, deliveries, lease_owner, lease_expires_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 1)`,
  );
  const a = { runId: "wrun_a", workflowName: "workflow//a.ts//a" };
  const b = { runId: "wrun_b", workflowName: "workflow//b.ts//b" };
  for (const r of [a, b]) {
    run.run(r.runId, r.workflowName);
    event.run(r.runId, Buffer.from([1, 91, 93]));
  }
  message.run("msg_a_start", a.runId, "start", 1, 1, "old-owner", 2);
  message.run("msg_b_start", b.runId, "start", 1, 0, null, null);
  message.run("msg_b_wake", b.runId, "wake", 2, 0, null, null);
  db.close();

  const world = createLocalWorld({ dataDir });
  try {
    const file = new Database(join(dataDir, "stepwise.db"), { readonly: true });
    expect(file.pragma("user_version", { simple: true })).toBe(LATEST_VERSION);
    file.close();
    expect(await world.queue.nextAvailableAt({ workflows: ["workflow//c.ts//c"] })).toBeUndefined();
    expect(
      await world.queue.claim("new-owner", { limit: 10, leaseMs: 60_000, workflows: ["workflow//c.ts//c"] }),
    ).toEqual([]);
    const forB = await world.queue.claim("new-owner", {
      limit: 10,
      leaseMs: 60_000,
      workflows: [b.workflowName],
    });
    expect(forB.map((m) => [m.runId, m.kind]).sort()).toEqual([
      [b.runId, "start"],
      [b.runId, "wake"],
    ]);
    // The message leased before the upgrade (its lease ran out) comes back for its workflow.
    const forA = await world.queue.claim("new-owner", {
      limit: 10,
      leaseMs: 60_000,
      workflows: [a.workflowName],
    });
    expect(forA.map((m) => [m.messageId, m.deliveries])).toEqual([["msg_a_start", 2]]);
  } finally {
    await world.close();
  }
});
