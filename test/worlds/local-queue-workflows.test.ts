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
import { LATEST_VERSION } from "../../src/worlds/local/migrations.ts";
import { createRun } from "../world-conformance/fixtures.ts";

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "stepwise-local-"));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

it("upgrades a database from before migration 5: old messages are claimed by their run's workflow only", async () => {
  let world = createLocalWorld({ dataDir });
  const a = await createRun(world, { workflowName: "workflow//a.ts//a" });
  const b = await createRun(world, { workflowName: "workflow//b.ts//b" });
  await world.queue.enqueue([{ runId: b.runId, kind: "wake" }]);
  const [leased] = await world.queue.claim("old-owner", { limit: 1, leaseMs: 1 }); // a's start
  expect(leased?.runId).toBe(a.runId);
  await world.close();

  // Back to the schema of version 4: no workflow on messages (and none of migration 6's audit
  // columns, nor migration 7's notices).
  const db = new Database(join(dataDir, "stepwise.db"));
  db.exec(`DROP INDEX queue_waiting_by_workflow; ALTER TABLE queue DROP COLUMN workflow_name;`);
  db.exec(
    "ALTER TABLE audit DROP COLUMN refers_to; ALTER TABLE audit DROP COLUMN outcome; ALTER TABLE audit DROP COLUMN detail;",
  );
  db.exec("DROP TABLE notices;");
  db.pragma("user_version = 4");
  db.close();

  world = createLocalWorld({ dataDir });
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
    expect(forB.map((message) => [message.runId, message.kind]).sort()).toEqual([
      [b.runId, "start"],
      [b.runId, "wake"],
    ]);
    // The message leased before the upgrade (its lease ran out) comes back for its workflow.
    const forA = await world.queue.claim("new-owner", {
      limit: 10,
      leaseMs: 60_000,
      workflows: [a.workflowName],
    });
    expect(forA.map((message) => [message.messageId, message.deliveries])).toEqual([[leased?.messageId, 2]]);
  } finally {
    await world.close();
  }
});
