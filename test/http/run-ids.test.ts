/**
 * Runs under ids the client chooses, and the list of runs, over real HTTP (Node adapter, memory
 * World): `POST /runs` with `id` (201, then 200 for the same id and workflow, 409 for another
 * workflow, 400 for a malformed id) and `GET /runs` with its filters and paging, and every
 * malformed query refused with a 400 that changes nothing.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { configure, shutdown, start } from "../../src/api/index.ts";
import { toNodeListener } from "../../src/http/adapters/node.ts";
import { createHandler } from "../../src/http/index.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { call, errorOf, SECRET, type Served, serve, snapshotWorld, until } from "./helpers.ts";
import { wf } from "./workflows.ts";

let world: World;
let served: Served;
const base = "/stepwise";
const GREETER = "workflow//test/http/workflows.ts//greeter";
const SLEEPER = "workflow//test/http/workflows.ts//sleeper";

beforeAll(async () => {
  served = await serve(toNodeListener(createHandler({ secret: SECRET, maxWaitMs: 3_000 })));
});
afterAll(() => served.close());
beforeEach(() => {
  world = createMemoryWorld();
  configure({ world, worker: { holdMs: 0 } });
});
afterEach(() => shutdown());

const post = (json: unknown) => call(served.origin, `${base}/runs`, { method: "POST", json });

interface Listed {
  runs: { runId: string; workflowName: string; status: string; createdAt: string; output?: unknown }[];
  nextCursor: string | null;
}

async function list(query: string): Promise<Listed> {
  const response = await call(served.origin, `${base}/runs${query}`);
  expect(response.status, query).toBe(200);
  return (await response.json()) as Listed;
}

describe("POST /runs with an id", () => {
  it("starts the run under the id (201), and the same id and workflow again returns it (200)", async () => {
    const first = await post({ workflow: "greeter", args: ["ada"], id: "greet:ada-1" });
    expect(first.status).toBe(201);
    expect(first.headers.get("location")).toBe(`${base}/runs/greet%3Aada-1`);
    expect(await first.json()).toEqual({
      runId: "greet:ada-1",
      workflowName: GREETER,
      status: "pending",
      created: true,
    });
    const done = await call(served.origin, `${base}/runs/greet%3Aada-1/result?wait=3000`);
    expect(await done.json()).toMatchObject({ status: "completed", output: { hello: "ada" } });

    const again = await post({ workflow: GREETER, args: ["bob"], id: "greet:ada-1" });
    expect(again.status).toBe(200);
    expect(again.headers.get("location")).toBe(`${base}/runs/greet%3Aada-1`);
    expect(await again.json()).toEqual({
      runId: "greet:ada-1",
      workflowName: GREETER,
      status: "completed",
      created: false,
    });
    expect((await world.runs.list()).items).toHaveLength(1);
    const view = await call(served.origin, `${base}/runs/greet:ada-1`);
    expect(await view.json()).toMatchObject({ runId: "greet:ada-1", output: { hello: "ada" } });
  });

  it("without an id, generates one, as before", async () => {
    const response = await post({ workflow: "greeter", args: ["ada"] });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ runId: expect.stringMatching(/^wrun_/), created: true });
  });

  it("refuses an id held by another workflow (409 RUN_ID_CONFLICT) and writes nothing", async () => {
    expect((await post({ workflow: "sleeper", args: ["1h"], id: "order-7" })).status).toBe(201);
    await until(
      () => world.runs.get("order-7"),
      (run) => run.status === "running" && run.lease === undefined,
    );
    const before = await snapshotWorld(world);
    const response = await post({ workflow: "greeter", args: ["ada"], id: "order-7" });
    expect(response.status).toBe(409);
    const error = await errorOf(response);
    expect(error.code).toBe("RUN_ID_CONFLICT");
    expect(error.message).toContain(SLEEPER);
    expect(await snapshotWorld(world)).toBe(before);
  });

  it("refuses a malformed id (400 INVALID_RUN_ID) or one that is not a string (400 INVALID_BODY), writing nothing", async () => {
    const before = await snapshotWorld(world);
    for (const id of ["", "has space", "a/b", "x".repeat(101), "..", "ünïcode", "tab\there"]) {
      const response = await post({ workflow: "greeter", args: ["ada"], id });
      expect(response.status, id).toBe(400);
      const error = await errorOf(response);
      expect(error.code, id).toBe("INVALID_RUN_ID");
      expect(error.message).toContain('1 to 100 characters of letters, digits, "_", ".", ":" and "-"');
    }
    for (const id of [42, null, ["a"], { id: "a" }]) {
      const response = await post({ workflow: "greeter", args: ["ada"], id });
      expect(response.status, JSON.stringify(id)).toBe(400);
      const error = (await response.json()) as { error: { code: string; issues: { path: string[] }[] } };
      expect(error.error.code).toBe("INVALID_BODY");
      expect(error.error.issues[0]?.path).toEqual(["id"]);
    }
    expect(await snapshotWorld(world)).toBe(before);
  });

  it("concurrent POSTs with one id make exactly one run; one answers 201, the others 200", async () => {
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => post({ workflow: "sleeper", args: ["1h"], id: "only-once" })),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([
      200, 200, 200, 200, 200, 200, 200, 201,
    ]);
    expect((await world.runs.list()).items.map((run) => run.runId)).toEqual(["only-once"]);
    expect((await world.events.list("only-once")).filter((e) => e.type === "run_created")).toHaveLength(1);
  });
});

describe("GET /runs", () => {
  /** 5 greeter runs (completed) and 3 sleeper runs (running), created in this order. */
  async function someRuns(): Promise<{ greeters: string[]; sleepers: string[] }> {
    const greeters: string[] = [];
    const sleepers: string[] = [];
    for (let i = 0; i < 5; i++) {
      const run = await start(wf.greeter, [`g${i}`], { id: `g-${i}` });
      await run.returnValue;
      greeters.push(run.runId);
    }
    for (let i = 0; i < 3; i++) sleepers.push((await start(wf.sleeper, ["1h"], { id: `s-${i}` })).runId);
    await until(
      () => world.waits.list({ status: "waiting" }),
      (waits) => waits.length === 3,
    );
    return { greeters, sleepers };
  }

  it("lists runs newest first, without outcomes, filtered by status and workflow", async () => {
    const { greeters, sleepers } = await someRuns();
    const all = await list("");
    expect(all.runs.map((run) => run.runId)).toEqual([...greeters, ...sleepers].reverse());
    expect(all.nextCursor).toBeNull();
    expect(all.runs[0]).toEqual({
      runId: "s-2",
      workflowName: SLEEPER,
      status: "running",
      createdAt: expect.any(String),
      startedAt: expect.any(String),
      completedAt: null,
      // The version of the workflow code it replays with (its bundle's hash).
      version: expect.stringMatching(/^[0-9a-f]{64}$/),
      language: "typescript",
    });
    expect(all.runs.some((run) => "output" in run)).toBe(false);

    expect((await list("?status=completed")).runs.map((r) => r.runId)).toEqual([...greeters].reverse());
    expect((await list("?status=running,completed")).runs).toHaveLength(8);
    expect((await list("?status=running&status=pending")).runs.map((r) => r.runId)).toEqual(
      [...sleepers].reverse(),
    );
    expect((await list("?workflow=sleeper")).runs.map((r) => r.runId)).toEqual([...sleepers].reverse());
    expect((await list(`?workflow=${encodeURIComponent(GREETER)}`)).runs).toHaveLength(5);
    expect((await list("?workflow=test/http/workflows.ts//greeter")).runs).toHaveLength(5);
    expect((await list("?workflow=greeter&workflow=sleeper")).runs).toHaveLength(8);
    expect((await list("?workflow=sleeper&status=completed")).runs).toEqual([]);
    expect(await list("?workflow=nobody")).toEqual({ runs: [], nextCursor: null });
  });

  it("pages with limit and cursor through every run exactly once", async () => {
    const { greeters, sleepers } = await someRuns();
    const seen: string[] = [];
    let query = "?limit=3";
    for (let page = 0; page < 10; page++) {
      const { runs, nextCursor } = await list(query);
      expect(runs.length).toBeLessThanOrEqual(3);
      seen.push(...runs.map((run) => run.runId));
      if (nextCursor === null) break;
      query = `?limit=3&cursor=${encodeURIComponent(nextCursor)}`;
    }
    expect(seen).toEqual([...greeters, ...sleepers].reverse());
    const filtered = await list("?status=completed&limit=2");
    expect(filtered.runs.map((r) => r.runId)).toEqual(["g-4", "g-3"]);
    const next = await list(`?status=completed&limit=2&cursor=${filtered.nextCursor}`);
    expect(next.runs.map((r) => r.runId)).toEqual(["g-2", "g-1"]);
    expect(await list("?cursor=wrun_unknown")).toEqual({ runs: [], nextCursor: null });
  });

  it("refuses a malformed query (400 INVALID_QUERY) saying what is expected, and changes nothing", async () => {
    await someRuns();
    const before = await snapshotWorld(world);
    const cases: [string, string][] = [
      [
        "?status=bogus",
        "status must be one or more of pending, running, pausing, paused, completed, failed, cancelled",
      ],
      ["?status=", "status must be one or more of"],
      ["?status=sleeping", "stored as running: filter with status=running"],
      ["?limit=0", "limit must be a whole number from 1 to 1000"],
      ["?limit=1001", "limit must be a whole number from 1 to 1000"],
      ["?limit=ten", "limit must be a whole number from 1 to 1000"],
      ["?limit=-1", "limit must be a whole number from 1 to 1000"],
      ["?limit=2&limit=3", "limit may be given once"],
      ["?cursor=not%20a%20run", "cursor must be the nextCursor of a previous page"],
      ["?cursor=a&cursor=b", "cursor may be given once"],
      ["?workflow=", "workflow must be a workflow's name or id"],
      [
        "?wokflow=greeter",
        'Unknown query parameter "wokflow"; the parameters are status, workflow, language, since, until, q, limit, cursor',
      ],
    ];
    for (const [query, says] of cases) {
      const response = await call(served.origin, `${base}/runs${query}`);
      expect(response.status, query).toBe(400);
      const error = await errorOf(response);
      expect(error.code, query).toBe("INVALID_QUERY");
      expect(error.message, query).toContain(says);
    }
    expect(await snapshotWorld(world)).toBe(before);
  });

  it("needs the secret, and /runs takes only GET and POST", async () => {
    const anonymous = await call(served.origin, `${base}/runs`, { auth: false });
    expect(anonymous.status).toBe(401);
    const wrongMethod = await call(served.origin, `${base}/runs`, { method: "DELETE" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST, GET");
  });
});
