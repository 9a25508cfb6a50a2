/**
 * The postgres World across processes and failures: other Worlds' writes arrive as the same change
 * hints as in-process ones (LISTEN/NOTIFY), a World never hears its own writes twice, the LISTEN
 * connection comes back after the server restarts (with `{ type: "any" }`, then hints flow again),
 * a call whose connection dies fails with an error naming the server and the next call works, and
 * a process that never closes its World still exits. This file restarts its own server.
 */
import { spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRun, expectReject, startedRun, stepStarted, utf8 } from "../../src/world/testing/fixtures.ts";
import type { World, WorldNotification } from "../../src/world/types.ts";
import { createPostgresWorld, WorldUnavailableError } from "../../src/worlds/postgres/index.ts";
import { type PostgresServer, startPostgres } from "../helpers/postgres.ts";

let server: PostgresServer;
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

const warnings: string[] = [];
async function pair(): Promise<{ a: World; b: World; schema: string }> {
  const schema = `res_${++schemas}`;
  const warn = (message: string) => warnings.push(message);
  const a = await createPostgresWorld({ connectionString: url, schema, warn, startupTimeoutMs: 0 });
  const b = await createPostgresWorld({ connectionString: url, schema, warn, startupTimeoutMs: 0 });
  opened.push(a, b);
  return { a, b, schema };
}

function record(world: World): WorldNotification[] {
  const heard: WorldNotification[] = [];
  world.subscribe((notification) => heard.push(notification));
  return heard;
}

const has = (heard: WorldNotification[], wanted: WorldNotification) => () =>
  heard.some((n) => JSON.stringify(n) === JSON.stringify(wanted));

/** Retries a call while the server is coming back (WorldUnavailableError), for up to 15 s. */
async function eventually<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!WorldUnavailableError.is(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe("postgres World: notifications between Worlds", () => {
  it("another World's writes arrive as specific hints", async () => {
    const { a, b } = await pair();
    const heard = record(a);
    const warm = await createRun(b); // LISTEN is established once this is heard
    await expect
      .poll(has(heard, { type: "run", runId: warm.runId, status: "pending" }), { timeout: 5000 })
      .toBe(true);

    const run = await createRun(b);
    await expect.poll(has(heard, { type: "run", runId: run.runId, status: "pending" })).toBe(true);
    expect(heard.some((n) => n.type === "queue")).toBe(true);

    heard.length = 0;
    await b.events.append({
      runId: run.runId,
      expectedSeq: 1,
      events: [{ type: "run_started", data: {} }],
      enqueue: [{ runId: run.runId, kind: "wake" }],
    });
    await expect.poll(has(heard, { type: "run", runId: run.runId, status: "running" })).toBe(true);
    expect(heard.some((n) => n.type === "queue")).toBe(true);

    heard.length = 0;
    await b.inbox.put({ runId: run.runId, kind: "cancel" });
    await expect.poll(has(heard, { type: "inbox", runId: run.runId })).toBe(true);
    expect(heard.some((n) => n.type === "queue")).toBe(true);

    heard.length = 0;
    await a.runs.acquire(run.runId, "owner-a", 60_000);
    expect((await b.runs.acquire(run.runId, "owner-b", 60_000)).acquired).toBe(false);
    await expect.poll(has(heard, { type: "inbox", runId: run.runId })).toBe(true);

    heard.length = 0;
    await b.streams.write(run.runId, "out put", [utf8("x")]);
    await expect.poll(has(heard, { type: "stream", runId: run.runId, name: "out put" })).toBe(true);

    const [message] = await b.queue.claim("owner-b", { limit: 1, leaseMs: 60_000 });
    heard.length = 0;
    await b.queue.release("owner-b", message?.messageId ?? "");
    await expect.poll(has(heard, { type: "queue" })).toBe(true);
    expect(heard.some((n) => n.type === "any")).toBe(false);
  });

  it("a step's checkpoint reaches no other process; a status change does", async () => {
    const { a, b } = await pair();
    const heard = record(a);
    const warm = await createRun(b);
    await expect
      .poll(has(heard, { type: "run", runId: warm.runId, status: "pending" }), { timeout: 5000 })
      .toBe(true);
    const run = await startedRun(b);
    await expect.poll(has(heard, { type: "run", runId: run.runId, status: "running" })).toBe(true);

    heard.length = 0;
    const checkpoint = await b.events.append({
      runId: run.runId,
      expectedSeq: 2,
      events: [stepStarted("s")],
    });
    const later = await createRun(b); // notifications arrive in commit order: once this is heard, so was the step
    await expect.poll(has(heard, { type: "run", runId: later.runId, status: "pending" })).toBe(true);
    expect(heard.filter((n) => n.type === "run" && n.runId === run.runId)).toEqual([]);

    await b.events.append({
      runId: run.runId,
      expectedSeq: checkpoint.seq,
      events: [{ type: "run_completed", data: {}, payload: utf8("done") }],
    });
    await expect.poll(has(heard, { type: "run", runId: run.runId, status: "completed" })).toBe(true);
  });

  it("a World hears its own writes once, in-process, not again through LISTEN", async () => {
    const { a, b } = await pair();
    const heard = record(a);
    const warm = await createRun(b);
    await expect
      .poll(has(heard, { type: "run", runId: warm.runId, status: "pending" }), { timeout: 5000 })
      .toBe(true);
    const run = await startedRun(a);
    await a.events.append({ runId: run.runId, expectedSeq: 2, events: [stepStarted("s")] });
    await createRun(b); // a later write from elsewhere, to know a's own notifications had time to arrive
    await expect.poll(() => heard.filter((n) => n.type === "run" && n.runId !== run.runId).length).toBe(2);
    expect(heard.filter((n) => n.type === "run" && n.runId === run.runId)).toHaveLength(3);
  });
});

describe("postgres World: server restarts and dropped connections", () => {
  it("LISTEN reconnects after a restart, says { type: 'any' }, and hints flow again", async () => {
    const { a, b } = await pair();
    const heard = record(a);
    const before = await createRun(b);
    await expect
      .poll(has(heard, { type: "run", runId: before.runId, status: "pending" }), { timeout: 5000 })
      .toBe(true);

    heard.length = 0;
    await server.restart();
    await expect.poll(() => heard.some((n) => n.type === "any"), { timeout: 15_000 }).toBe(true);
    expect(warnings.some((warning) => warning.includes("LISTEN"))).toBe(true);

    const after = await eventually(() => createRun(b));
    await expect
      .poll(has(heard, { type: "run", runId: after.runId, status: "pending" }), { timeout: 5000 })
      .toBe(true);
    expect((await eventually(() => a.runs.get(after.runId))).runId).toBe(after.runId);
    await eventually(() =>
      a.events.append({ runId: before.runId, expectedSeq: 1, events: [{ type: "run_started", data: {} }] }),
    );
  }, 60_000);

  it("a call whose connection dies fails naming the server; the next call reconnects", async () => {
    const { a, schema } = await pair();
    const run = await startedRun(a);
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    await locker.query("BEGIN");
    await locker.query(`SELECT 1 FROM "${schema}".runs WHERE run_id = $1 FOR UPDATE`, [run.runId]);
    const append = a.events.append({ runId: run.runId, expectedSeq: 2, events: [stepStarted("x")] });
    const acquire = a.runs.acquire(run.runId, "owner-a", 60_000);
    // Both are observed below; marked handled now, since they fail before the test looks at them.
    append.catch(() => {});
    acquire.catch(() => {});
    // Another session watches (pg_stat_activity is a snapshot per transaction: not the locker's).
    const observer = new pg.Client({ connectionString: url });
    await observer.connect();
    const blocked = "wait_event_type = 'Lock' AND datname = current_database()";
    await expect
      .poll(
        async () =>
          (await observer.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE ${blocked}`)).rows[0]
            ?.n,
      )
      .toBe(2);
    await observer.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE ${blocked}`);
    await observer.end();
    for (const call of [append, acquire]) {
      const error = await expectReject(call, WorldUnavailableError, true);
      expect(error.message).toContain(`127.0.0.1:${server.port}`);
    }
    await locker.query("ROLLBACK");
    await locker.end();
    const next = await a.events.append({ runId: run.runId, expectedSeq: 2, events: [stepStarted("x")] });
    expect(next.seq).toBe(3);
    expect((await a.runs.acquire(run.runId, "owner-a", 60_000)).acquired).toBe(true);
  });
});

describe("postgres World: process lifetime", () => {
  it("a process that never closes its World still exits when its work is done", async () => {
    const dir = join(import.meta.dirname, "..", "..", "node_modules", ".cache", "stepwise-tests");
    mkdirSync(dir, { recursive: true });
    const bundle = join(dir, `postgres-world-${process.pid}.mjs`);
    await build({
      entryPoints: [join(import.meta.dirname, "..", "..", "src", "worlds", "postgres", "index.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      packages: "external",
      outfile: bundle,
      logLevel: "silent",
    });
    const script = `
      import { createPostgresWorld } from ${JSON.stringify(pathToFileURL(bundle).href)};
      const world = await createPostgresWorld({ schema: "exit_check" });
      world.subscribe(() => {});
      const runId = "wrun_exit_" + process.pid;
      await world.runs.create({ runId, workflowName: "w", specVersion: 1, seed: "s", input: new Uint8Array([1]) });
      await world.events.append({ runId, expectedSeq: 1, events: [{ type: "run_started", data: {} }] });
      await world.queue.claim("child", { limit: 10, leaseMs: 60000 });
      console.log("done");`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, STEPWISE_POSTGRES_URL: url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (data: Buffer) => {
      output += data.toString();
    });
    child.stderr.on("data", (data: Buffer) => {
      output += data.toString();
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve(null);
      }, 20_000);
      child.on("exit", (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    rmSync(bundle, { force: true });
    expect(output).toContain("done");
    expect(code, `the child did not exit by itself: ${output}`).toBe(0);
  }, 60_000);
});
