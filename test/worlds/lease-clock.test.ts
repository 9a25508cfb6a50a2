/**
 * Leases and the wall clock, on the Worlds whose leases are shared between processes (local,
 * postgres), opened as in production: without a test clock. The process's wall clock is stepped
 * (as NTP or an operator would) by moving `Date.now()`; the machine's monotonic clock and the
 * database's clock do not move. A forward step must not expire a live lease — another owner may
 * neither acquire the run nor claim its message — and a backward step must not make a lease
 * outlive its time. Expiry times in records stay on the (stepped) wall clock of the reader.
 * The local World also judges leases written in another boot (expired) and leases rewritten by an
 * older Stepwise that only knows the wall-clock expiry (by that expiry). Processes whose wall
 * clocks step during a real workload are in `test/e2e/clock-jump.test.ts`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRun } from "../../src/world/testing/fixtures.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { createPostgresWorld } from "../../src/worlds/postgres/index.ts";
import { type PostgresServer, startPostgres } from "../helpers/postgres.ts";

const HOURS_3 = 3 * 60 * 60 * 1000;
const realNow = Date.now;
/** How far the stepped wall clock is from the real one. */
let offset = 0;

beforeEach(() => {
  offset = 0;
  // Installed before a World is opened, so that even a World that kept a reference to
  // Date.now reads the stepped clock, as it would after a real step.
  Date.now = () => realNow.call(Date) + offset;
});
afterEach(() => {
  Date.now = realNow;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function describeLeaseClock(name: string, open: () => Promise<{ world: World; cleanup(): Promise<void> }>) {
  describe(`${name} World: leases and wall-clock steps`, () => {
    let world: World;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ world, cleanup } = await open());
    });
    afterEach(async () => {
      await cleanup();
    });

    it("a forward step of the wall clock does not expire a live lease", async () => {
      const run = await createRun(world);
      expect((await world.runs.acquire(run.runId, "owner-a", 2_000)).acquired).toBe(true);
      const [message] = await world.queue.claim("owner-a", { limit: 10, leaseMs: 2_000 });
      expect(message?.runId).toBe(run.runId);

      offset += HOURS_3;
      const taken = await world.runs.acquire(run.runId, "owner-b", 2_000);
      expect(taken.acquired).toBe(false);
      expect(taken.run.lease?.owner).toBe("owner-a");
      expect(await world.queue.claim("owner-b", { limit: 10, leaseMs: 2_000 })).toEqual([]);
      // Expiry times read now are on the stepped clock: still ahead, not three hours behind.
      const now = Date.now();
      const lease = (await world.runs.get(run.runId)).lease;
      expect(lease?.expiresAt).toBeGreaterThan(now);
      expect(lease?.expiresAt).toBeLessThanOrEqual(now + 2_000 + 100);
      const next = await world.queue.nextAvailableAt();
      expect(next).toBeGreaterThan(now);
      expect(next).toBeLessThanOrEqual(now + 2_000 + 100);
      // The holder keeps renewing after the step, and keeps its lease.
      expect(await world.runs.renew("owner-a", [run.runId], 2_000)).toEqual([run.runId]);
      expect(await world.queue.extend("owner-a", [message?.messageId ?? ""], 2_000)).toEqual([
        message?.messageId,
      ]);
      offset += HOURS_3;
      expect((await world.runs.acquire(run.runId, "owner-b", 2_000)).acquired).toBe(false);
      expect(await world.queue.claim("owner-b", { limit: 10, leaseMs: 2_000 })).toEqual([]);
    });

    it("a backward step of the wall clock does not make a lease outlive its time", async () => {
      const run = await createRun(world);
      expect((await world.runs.acquire(run.runId, "owner-a", 300)).acquired).toBe(true);
      const [message] = await world.queue.claim("owner-a", { limit: 10, leaseMs: 300 });
      offset -= HOURS_3;
      expect((await world.runs.acquire(run.runId, "owner-b", 60_000)).acquired).toBe(false);
      await sleep(500);
      expect((await world.runs.acquire(run.runId, "owner-b", 60_000)).acquired).toBe(true);
      const claimed = await world.queue.claim("owner-b", { limit: 10, leaseMs: 60_000 });
      expect(claimed.map((m) => m.messageId)).toEqual([message?.messageId]);
      expect(claimed[0]?.lease?.expiresAt).toBeGreaterThan(Date.now() + 59_000);
      expect(claimed[0]?.lease?.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
    });
  });
}

describeLeaseClock("local", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "stepwise-lease-clock-"));
  const world = createLocalWorld({ dataDir });
  return {
    world,
    async cleanup() {
      await world.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});

describe("local World: leases written in another boot or by an older Stepwise", () => {
  let dataDir: string;
  let world: World;
  let db: Database.Database;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "stepwise-lease-clock-"));
    world = createLocalWorld({ dataDir });
    db = new Database(join(dataDir, "stepwise.db"));
  });
  afterEach(async () => {
    db.close();
    await world.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const leaseRow = (runId: string) =>
    db.prepare("SELECT lease_owner, lease_expires_at, lease_clock FROM runs WHERE run_id = ?").get(runId) as {
      lease_owner: string;
      lease_expires_at: number;
      lease_clock: string;
    };

  it("a lease taken in another boot has expired: its holder died in the reboot", async () => {
    const run = await createRun(world);
    await world.runs.acquire(run.runId, "owner-a", 600_000);
    const row = leaseRow(run.runId);
    expect(row.lease_clock).toBe(`${row.lease_clock.split(":")[0]}:${row.lease_expires_at}`);
    expect((await world.runs.acquire(run.runId, "owner-b", 600_000)).acquired).toBe(false);
    db.prepare("UPDATE runs SET lease_clock = ? WHERE run_id = ?").run(
      `0123456789abcdef:${row.lease_expires_at}`,
      run.runId,
    );
    expect((await world.runs.acquire(run.runId, "owner-b", 600_000)).acquired).toBe(true);
  });

  it("a lease an older Stepwise rewrote (wall-clock expiry only) is judged by that expiry", async () => {
    const run = await createRun(world);
    await world.runs.acquire(run.runId, "owner-a", 100);
    await sleep(200); // owner-a's monotonic expiry has passed
    // An older process takes the run over as it always did: owner and wall-clock expiry only,
    // leaving owner-a's (expired) monotonic columns behind.
    const update = db.prepare("UPDATE runs SET lease_owner = ?, lease_expires_at = ? WHERE run_id = ?");
    update.run("older-owner", realNow() + 600_000, run.runId);
    const refused = await world.runs.acquire(run.runId, "owner-b", 600_000);
    expect(refused.acquired).toBe(false);
    expect(refused.run.lease?.expiresAt).toBe(leaseRow(run.runId).lease_expires_at);
    update.run("older-owner", realNow() - 1, run.runId);
    expect((await world.runs.acquire(run.runId, "owner-b", 600_000)).acquired).toBe(true);
  });
});

let server: PostgresServer | undefined;
let url = "";
beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

let schemas = 0;
describeLeaseClock("postgres", async () => {
  const world = await createPostgresWorld({ connectionString: url, schema: `lease_clock_${++schemas}` });
  return { world, cleanup: () => world.close() };
});
