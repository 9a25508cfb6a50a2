/**
 * The postgres World under contention, as several worker processes produce it: two Worlds (two
 * pools, two sets of connections) racing appends on one run, racing claims, racing for one hook
 * token; group commit batching concurrent appends into few transactions, keeping each append's
 * payloads apart, and isolating an append the database rejects.
 */
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SerializationError } from "../../src/errors/runtime.ts";
import { HookTokenConflictError, SequenceConflictError } from "../../src/errors/world.ts";
import {
  createRun,
  expectBytes,
  expectReject,
  hookCreated,
  startedRun,
  stepStarted,
} from "../../src/world/testing/fixtures.ts";
import type { World } from "../../src/world/types.ts";
import { createPostgresWorld, type PostgresWorldOptions } from "../../src/worlds/postgres/index.ts";
import { type PostgresServer, startPostgres } from "../helpers/postgres.ts";

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
const opened: World[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((world) => world.close()));
});

let lastSchema = "";

/** `count` Worlds on one fresh schema (`lastSchema`), each with its own pool, as workers have. */
async function workers(count: number, options: PostgresWorldOptions = {}): Promise<World[]> {
  const schema = `race_${++schemas}`;
  lastSchema = schema;
  const first = await createPostgresWorld({ connectionString: url, schema, ...options });
  const rest = await Promise.all(
    Array.from({ length: count - 1 }, () =>
      createPostgresWorld({ connectionString: url, schema, ...options }),
    ),
  );
  opened.push(first, ...rest);
  return [first, ...rest];
}

async function client(): Promise<pg.Client> {
  const connection = new pg.Client({ connectionString: url });
  await connection.connect();
  return connection;
}

/** A pool that counts the statements calling append_batch. */
function countingPool(): { pool: pg.Pool; batches: () => number } {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  let batches = 0;
  const query = pool.query.bind(pool) as (config: pg.QueryConfig) => Promise<pg.QueryResult>;
  (pool as unknown as { query: typeof query }).query = (config: pg.QueryConfig) => {
    if (typeof config === "object" && config.text.includes("append_batch")) batches++;
    return query(config);
  };
  return { pool, batches: () => batches };
}

describe("postgres World: two workers racing", () => {
  it("appends on one run: exactly one wins per expectedSeq, and the log has no gaps", async () => {
    const [a, b] = await workers(2);
    if (!a || !b) throw new Error("unreachable");
    const run = await startedRun(a);
    let seq = run.seq;
    for (let round = 0; round < 40; round++) {
      const results = await Promise.allSettled(
        [a, b].map((world, index) =>
          world.events.append({
            runId: run.runId,
            expectedSeq: seq,
            events: [stepStarted(`s${round}_${index}`)],
          }),
        ),
      );
      const won = results.filter((result) => result.status === "fulfilled");
      expect(won).toHaveLength(1);
      for (const result of results) {
        if (result.status === "rejected") expect(SequenceConflictError.is(result.reason)).toBe(true);
      }
      seq += 1;
    }
    const events = await b.events.list(run.runId);
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 42 }, (_, index) => index + 1));
    expect(await a.steps.list(run.runId)).toHaveLength(40);
  });

  it("claims: no message goes to two owners, and every message goes to one", async () => {
    const [a, b, c] = await workers(3);
    if (!a || !b || !c) throw new Error("unreachable");
    const run = await createRun(a);
    await a.queue.enqueue(
      Array.from({ length: 299 }, (_, index) => ({ runId: run.runId, kind: `m${index}` })),
    );
    const claimed = new Map<string, string>();
    const duplicates: string[] = [];
    await Promise.all(
      [a, b, c].flatMap((world, index) =>
        Array.from({ length: 4 }, async (_, lane) => {
          const owner = `owner-${index}-${lane}`;
          for (;;) {
            const messages = await world.queue.claim(owner, { limit: 7, leaseMs: 600_000 });
            if (messages.length === 0) return;
            for (const message of messages) {
              if (claimed.has(message.messageId)) duplicates.push(message.messageId);
              claimed.set(message.messageId, owner);
              expect(message.lease?.owner).toBe(owner);
            }
          }
        }),
      ),
    );
    expect(duplicates).toEqual([]);
    expect(claimed.size).toBe(300);
  });

  it("a hook token: of two runs on two workers taking it at once, one wins and the other learns which", async () => {
    const [a, b] = await workers(2);
    if (!a || !b) throw new Error("unreachable");
    for (let round = 0; round < 15; round++) {
      const runs = await Promise.all([startedRun(a), startedRun(b)]);
      const token = `contested-${round}`;
      const results = await Promise.allSettled(
        [a, b].map((world, index) =>
          world.events.append({
            runId: runs[index]?.runId ?? "",
            expectedSeq: 2,
            events: [stepStarted("before"), hookCreated(`hook_${round}_${index}`, token)],
          }),
        ),
      );
      const holder = await a.hooks.getByToken(token);
      expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
      for (const result of results) {
        if (result.status === "fulfilled") continue;
        expect(HookTokenConflictError.is(result.reason)).toBe(true);
        expect(result.reason).toMatchObject({ token, heldByRunId: holder.runId });
      }
      const loser = runs.find((run) => run.runId !== holder.runId);
      expect((await a.runs.get(loser?.runId ?? "")).seq).toBe(2);
      expect(await a.steps.list(loser?.runId ?? "")).toEqual([]);
    }
  });
});

describe("postgres World: a hook token held by a transaction still in flight", () => {
  for (const outcome of ["COMMIT", "ROLLBACK"] as const) {
    it(`the append waits for it, then ${outcome === "COMMIT" ? "fails naming the holder" : "succeeds"} (${outcome})`, async () => {
      const [world] = await workers(1);
      if (!world) throw new Error("unreachable");
      const holder = await startedRun(world);
      const run = await startedRun(world);
      const other = await client();
      await other.query("BEGIN");
      await other.query(
        `INSERT INTO "${lastSchema}".hooks (hook_id, run_id, token, kind, status, created_at)
         VALUES ('hook_in_flight', $1, 'in-flight', 'hook', 'active', 0)`,
        [holder.runId],
      );
      const pending = world.events.append({
        runId: run.runId,
        expectedSeq: 2,
        events: [stepStarted("x"), hookCreated("hook_mine", "in-flight")],
      });
      // Observed below; marked handled now, since it may settle before the test looks at it.
      pending.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 100));
      // The waiting append holds up its own batch only: the next batch goes on another connection.
      const bystander = await world.events.append({
        runId: holder.runId,
        expectedSeq: 2,
        events: [stepStarted("y")],
      });
      expect(bystander.seq).toBe(3);
      await other.query(outcome);
      await other.end();
      if (outcome === "COMMIT") {
        const error = await expectReject(pending, HookTokenConflictError, true);
        expect(error).toMatchObject({ token: "in-flight", heldByRunId: holder.runId });
        expect((await world.runs.get(run.runId)).seq).toBe(2);
      } else {
        expect((await pending).seq).toBe(4);
        expect((await world.hooks.getByToken("in-flight")).hookId).toBe("hook_mine");
      }
    });
  }
});

describe("postgres World: group commit", () => {
  it("commits concurrent appends in few transactions; with group commit off, one each", async () => {
    for (const enabled of [true, false]) {
      const { pool, batches } = countingPool();
      const world = await createPostgresWorld({ pool, schema: `gc_${++schemas}`, groupCommit: enabled });
      const runs = await Promise.all(Array.from({ length: 200 }, () => startedRun(world)));
      const before = batches();
      const results = await Promise.all(
        runs.map((run) =>
          world.events.append({ runId: run.runId, expectedSeq: 2, events: [stepStarted("a")] }),
        ),
      );
      expect(results.every((result) => result.seq === 3)).toBe(true);
      const used = batches() - before;
      if (enabled) expect(used).toBeLessThanOrEqual(10);
      else expect(used).toBe(200);
      await world.close();
      await pool.end();
    }
  });

  it("keeps each append's payloads apart within a batch", async () => {
    const [world] = await workers(1);
    if (!world) throw new Error("unreachable");
    const runs = await Promise.all(Array.from({ length: 12 }, () => startedRun(world)));
    const payload = (index: number, part: number) =>
      Uint8Array.from({ length: index * 37 + part }, (_, i) => (i * 31 + index * 7 + part) & 0xff);
    await Promise.all(
      runs.map((run, index) =>
        world.events.append({
          runId: run.runId,
          expectedSeq: 2,
          events: [
            stepStarted("a", 1, payload(index, 1)),
            { type: "step_completed", data: { stepId: "a", attempt: 1 }, payload: payload(index, 2) },
            stepStarted("b"),
            { type: "run_completed", data: {}, payload: payload(index, 3) },
          ],
        }),
      ),
    );
    for (const [index, run] of runs.entries()) {
      const step = await world.steps.get(run.runId, "a");
      expectBytes(step.input, payload(index, 1));
      expectBytes(step.output, payload(index, 2));
      expectBytes((await world.runs.get(run.runId)).output, payload(index, 3));
    }
  });

  it("an append the database rejects outright fails alone; the rest of its batch commits", async () => {
    const [world] = await workers(1);
    if (!world) throw new Error("unreachable");
    const runs = await Promise.all(Array.from({ length: 5 }, () => startedRun(world)));
    const results = await Promise.allSettled(
      runs.map((run, index) =>
        world.events.append({
          runId: run.runId,
          expectedSeq: 2,
          // jsonb cannot hold the NUL character: Postgres refuses this event data.
          events: [{ type: "run_failed", data: { reason: index === 2 ? "nul \u0000 here" : "plain" } }],
        }),
      ),
    );
    expect(results.map((result) => result.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
    ]);
    const rejected = results[2];
    expect(rejected?.status === "rejected" && SerializationError.is(rejected.reason)).toBe(true);
    expect((await world.runs.get(runs[2]?.runId ?? "")).seq).toBe(2);
    expect((await world.runs.get(runs[3]?.runId ?? "")).status).toBe("failed");
  });
});
