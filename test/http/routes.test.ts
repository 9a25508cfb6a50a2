/**
 * Every route of the run API over real HTTP (Node adapter, memory World): health, start, get,
 * result (long-poll), cancel, pause and resume, restart, events and hooks, with their success and
 * refusal answers.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { configure, getHookByToken, shutdown } from "../../src/api/index.ts";
import { toNodeListener } from "../../src/http/adapters/node.ts";
import { createHandler } from "../../src/http/index.ts";
import { DEFAULT_LIMITS } from "../../src/runtime/limits.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { call, errorOf, SECRET, type Served, serve, snapshotWorld, until } from "./helpers.ts";
import "./workflows.ts";

let world: World;
let served: Served;
const base = "/stepwise";

beforeAll(async () => {
  served = await serve(
    toNodeListener(createHandler({ secret: SECRET, cancelWaitMs: 2_000, maxWaitMs: 3_000 })),
  );
});
afterAll(() => served.close());
beforeEach(() => {
  world = createMemoryWorld();
  configure({ world, worker: { holdMs: 0 } });
});
afterEach(() => shutdown());

async function startRun(workflow: string, args: unknown[]): Promise<string> {
  const response = await call(served.origin, `${base}/runs`, { method: "POST", json: { workflow, args } });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { runId: string; workflowName: string; status: string };
  expect(body.runId).toMatch(/^wrun_/);
  expect(response.headers.get("location")).toBe(`${base}/runs/${body.runId}`);
  return body.runId;
}

async function result(
  runId: string,
  wait = 3_000,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await call(served.origin, `${base}/runs/${runId}/result?wait=${wait}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("GET /health", () => {
  it("reports the World and the worker", async () => {
    const response = await call(served.origin, `${base}/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      ok: boolean;
      world: { reachable: boolean; name: string };
      worker: unknown;
    };
    expect(body.ok).toBe(true);
    expect(body.world).toMatchObject({ reachable: true, name: "memory" });
    expect(body.worker).toHaveProperty("running");
  });
});

describe("POST /runs and GET /runs/:runId", () => {
  it("starts a workflow by name, and describes the run with its output in plain JSON", async () => {
    const runId = await startRun("greeter", ["ada"]);
    const done = await result(runId);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      runId,
      status: "completed",
      workflowName: "workflow//test/http/workflows.ts//greeter",
      output: { hello: "ada", at: "1970-01-01T00:00:00.000Z", big: "12", tags: ["a"] },
    });
    const response = await call(served.origin, `${base}/runs/${runId}`);
    expect(response.status).toBe(200);
    const view = (await response.json()) as Record<string, unknown>;
    expect(view).toMatchObject({ runId, status: "completed", output: { hello: "ada" } });
    expect(typeof view.createdAt).toBe("string");
    expect(typeof view.completedAt).toBe("string");
    // The version of the workflow code the run replays with, as the World keeps it.
    expect(view.version).toBe((await world.runs.get(runId)).bundleHash);
    expect(view.version).toMatch(/^[0-9a-f]{64}$/);
  });

  it("starts a workflow by full id, with no args", async () => {
    const runId = await startRun("workflow//test/http/workflows.ts//failer", []);
    const done = await result(runId);
    expect(done.body).toMatchObject({
      status: "failed",
      error: { name: "FatalError", message: "boom: the step refused", code: "FATAL" },
    });
    expect(JSON.stringify(done.body)).not.toContain("at ");
  });

  it("refuses an unknown workflow (404) and writes nothing", async () => {
    const response = await call(served.origin, `${base}/runs`, {
      method: "POST",
      json: { workflow: "nope", args: [] },
    });
    expect(response.status).toBe(404);
    expect((await errorOf(response)).code).toBe("WORKFLOW_NOT_REGISTERED");
    expect((await world.runs.list()).items).toHaveLength(0);
  });

  it("answers 404 for an unknown run", async () => {
    const response = await call(served.origin, `${base}/runs/wrun_NOPE`);
    expect(response.status).toBe(404);
    expect((await errorOf(response)).code).toBe("RUN_NOT_FOUND");
  });
});

describe("GET /runs/:runId/result", () => {
  it("answers 202 with the status when the wait runs out, and never waits past the bound", async () => {
    const runId = await startRun("sleeper", ["1h"]);
    const started = Date.now();
    const pending = await result(runId, 250);
    expect(pending.status).toBe(202);
    expect(pending.body).toMatchObject({ runId });
    expect(Date.now() - started).toBeLessThan(2_000);
    const capped = Date.now();
    const long = await result(runId, 999_999);
    expect(long.status).toBe(202);
    expect(Date.now() - capped).toBeLessThan(4_500);
  });

  it("answers at once without wait, and refuses a malformed wait (400)", async () => {
    const runId = await startRun("sleeper", ["1h"]);
    expect((await result(runId, 0)).status).toBe(202);
    const bad = await call(served.origin, `${base}/runs/${runId}/result?wait=soon`);
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe("INVALID_QUERY");
  });
});

describe("POST /runs/:runId/pause and /resume", () => {
  it("pauses a sleeping run and resumes it (200), and refuses what makes no sense with nothing written", async () => {
    const runId = await startRun("sleeper", ["1h"]);
    await until(
      () => world.waits.list({ runId }),
      (waits) => waits.length === 1,
    );
    const pause = (body?: unknown) =>
      call(
        served.origin,
        `${base}/runs/${runId}/pause`,
        body === undefined ? { method: "POST" } : { method: "POST", json: body },
      );
    const resume = (id = runId) => call(served.origin, `${base}/runs/${id}/resume`, { method: "POST" });

    // A malformed body is refused before anything is written.
    const before = await snapshotWorld(world);
    const malformed = await pause({ abortSteps: "yes" });
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).message).toMatch(/abortSteps: expected true or false, got a string/);
    const notPaused = await resume();
    expect(notPaused.status).toBe(409);
    const problem = await errorOf(notPaused);
    expect(problem.code).toBe("RUN_NOT_PAUSED");
    expect(problem.message).toMatch(/is not paused \(status: running\)/);
    const unknown = await resume("wrun_01NOSUCHRUN0000000000000");
    expect([unknown.status, (await errorOf(unknown)).code]).toEqual([404, "RUN_NOT_FOUND"]);
    expect(await snapshotWorld(world)).toBe(before);

    const paused = await pause();
    expect(paused.status).toBe(200);
    expect(await paused.json()).toEqual({ runId, status: "paused" });
    const again = await pause({ abortSteps: true });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ runId, status: "paused" });
    const resumed = await resume();
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toEqual({ runId, status: "running" });
    const types = (await world.events.list(runId)).map((event) => event.type);
    expect(types.filter((type) => type === "run_paused" || type === "run_resumed")).toEqual([
      "run_paused",
      "run_resumed",
    ]);

    const done = await startRun("greeter", ["x"]);
    await result(done);
    const finished = await call(served.origin, `${base}/runs/${done}/pause`, { method: "POST" });
    expect([finished.status, (await errorOf(finished)).code]).toEqual([409, "RUN_FINISHED"]);
  });
});

describe("POST /runs/:runId/cancel", () => {
  it("cancels a sleeping run (200), is idempotent, and refuses to cancel a completed run (409)", async () => {
    const runId = await startRun("sleeper", ["1h"]);
    await until(
      () => world.waits.list({ runId }),
      (waits) => waits.length === 1,
    );
    const first = await call(served.origin, `${base}/runs/${runId}/cancel`, { method: "POST" });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ runId, status: "cancelled" });
    const again = await call(served.origin, `${base}/runs/${runId}/cancel`, { method: "POST" });
    expect(again.status).toBe(200);
    expect((await result(runId)).body).toMatchObject({ status: "cancelled" });

    const done = await startRun("greeter", ["x"]);
    await result(done);
    const refused = await call(served.origin, `${base}/runs/${done}/cancel`, { method: "POST" });
    expect(refused.status).toBe(409);
    expect((await errorOf(refused)).code).toBe("RUN_FINISHED");
    expect((await world.runs.get(done)).status).toBe("completed");
  });

  it("answers 202 while another worker holds the run, which ends cancelled once it lets go", async () => {
    const runId = await startRun("sleeper", ["1h"]);
    await until(
      () => world.runs.get(runId),
      (run) => run.lease === undefined && run.status === "running",
    );
    // Another (unresponsive) worker holds the run's lease for a few seconds.
    expect((await world.runs.acquire(runId, "ghost-worker", 3_500)).acquired).toBe(true);
    const asked = Date.now();
    const response = await call(served.origin, `${base}/runs/${runId}/cancel`, { method: "POST" });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ runId, status: "running", cancelRequested: true });
    expect(Date.now() - asked).toBeLessThan(3_000);
    const ended = await call(served.origin, `${base}/runs/${runId}/result?wait=3000`);
    const view = (await ended.json()) as { status: string };
    expect(view.status).toBe("cancelled");
  });

  it("answers 404 for an unknown run", async () => {
    const response = await call(served.origin, `${base}/runs/wrun_NOPE/cancel`, { method: "POST" });
    expect(response.status).toBe(404);
  });
});

describe("POST /runs/:runId/restart", () => {
  const restart = (runId: string, json?: unknown) =>
    call(served.origin, `${base}/runs/${encodeURIComponent(runId)}/restart`, {
      method: "POST",
      ...(json === undefined ? {} : { json }),
    });

  it("restarts an ended run from the beginning (no body) or from a step (202), and it runs again", async () => {
    const runId = await startRun("greeter", ["x"]);
    const first = (await result(runId)).body;
    const full = await restart(runId);
    expect(full.status).toBe(202);
    expect(await full.json()).toEqual({ runId, generation: 2, keptCalls: 0 });
    const again = (await result(runId)).body;
    expect(again).toMatchObject({ status: "completed", output: first.output });
    // startedAt and completedAt are the new generation's.
    expect(Date.parse(again.startedAt as string)).toBeGreaterThanOrEqual(
      Date.parse(first.completedAt as string),
    );
    const fromStep = await restart(runId, { from: { step: "greet", occurrence: 1 } });
    expect(fromStep.status).toBe(202);
    expect(await fromStep.json()).toMatchObject({ runId, generation: 3, keptCalls: 0, occurrence: 1 });
    expect((await result(runId)).body).toMatchObject({ status: "completed", output: first.output });
    const types = (await world.events.list(runId)).map((event) => event.type);
    expect(types.filter((type) => type === "run_restarted")).toHaveLength(2);
  });

  it("refuses a step the run never called or a bad restart point (400), an unknown run (404), writing nothing", async () => {
    const runId = await startRun("greeter", ["y"]);
    await result(runId);
    const before = await snapshotWorld(world);
    const unknownStep = await restart(runId, { from: { step: "refund" } });
    expect(unknownStep.status).toBe(400);
    const problem = await errorOf(unknownStep);
    expect(problem.code).toBe("RESTART_STEP_NOT_FOUND");
    expect(problem.message).toContain("the steps it called are: greet");
    for (const from of [{ step: "greet", occurrence: 0 }, { step: "" }, "greet", { step: "greet", at: 1 }]) {
      const bad = await restart(runId, { from });
      expect(bad.status).toBe(400);
      expect((await errorOf(bad)).code).toBe("INVALID_RESTART_POINT");
    }
    const extra = await restart(runId, { from: { step: "greet" }, force: true });
    expect(extra.status).toBe(400);
    expect((await errorOf(extra)).code).toBe("INVALID_BODY");
    expect(await snapshotWorld(world)).toBe(before);
    const missing = await restart("wrun_NOPE");
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe("RUN_NOT_FOUND");
  });
});

describe("POST /runs/:runId/events", () => {
  const send = (runId: string, json: unknown, headers: Record<string, string> = {}) =>
    call(served.origin, `${base}/runs/${encodeURIComponent(runId)}/events`, {
      method: "POST",
      json,
      headers,
    });

  it("stores the event for the run (202), which receives it whether it waited before or after", async () => {
    const runId = await startRun("eventWaiter", ["http.paid"]);
    const response = await send(runId, { type: "http.paid", payload: { amount: 7 } });
    expect(response.status).toBe(202);
    const body = (await response.json()) as Record<string, string>;
    expect(body).toMatchObject({ runId, type: "http.paid" });
    expect(body.eventId).toMatch(/^evt_/);
    expect((await result(runId)).body).toMatchObject({
      status: "completed",
      output: { type: "http.paid", payload: { amount: 7 }, sentAt: body.sentAt },
    });
  });

  it("refuses an unknown run (404), a finished run (409), a bad type or payload (400), too much (413), writing nothing", async () => {
    const waiting = await startRun("eventWaiter", ["http.other"]);
    const done = await startRun("greeter", ["ada"]);
    expect((await result(done)).body).toMatchObject({ status: "completed" });
    await until(
      () => world.waits.list({ runId: waiting }),
      (waits) => waits.length === 1,
    );
    const before = await snapshotWorld(world);
    const refusals: [string, unknown, number, string][] = [
      ["wrun_NOPE", { type: "x", payload: 1 }, 404, "RUN_NOT_FOUND"],
      [done, { type: "x", payload: 1 }, 409, "RUN_FINISHED"],
      [waiting, { type: "has space", payload: 1 }, 400, "INVALID_EVENT_TYPE"],
      [waiting, { type: "x".repeat(101), payload: 1 }, 400, "INVALID_BODY"],
      [waiting, { type: "http.paid", payload: { amount: "7" } }, 400, "EVENT_PAYLOAD_INVALID"],
      [waiting, { type: "x" }, 400, "INVALID_BODY"],
      [waiting, { type: "x", payload: 1, extra: true }, 400, "INVALID_BODY"],
      [waiting, { type: "x", payload: "y".repeat(1_100_000) }, 413, "BODY_TOO_LARGE"],
    ];
    for (const [runId, json, status, code] of refusals) {
      const response = await send(runId, json);
      expect([response.status, (await errorOf(response)).code], JSON.stringify(json).slice(0, 80)).toEqual([
        status,
        code,
      ]);
    }
    const invalid = await send(waiting, { type: "http.paid", payload: { amount: "7" } });
    const problem = (await invalid.json()) as { error: { message: string; issues: unknown[] } };
    expect(problem.error.message).toMatch(/amount: amount must be a number\. Nothing was sent\./);
    expect(problem.error.issues).toEqual([{ path: ["amount"], message: "amount must be a number" }]);
    // Within the body limit but over the per-payload limit.
    configure({ limits: { ...DEFAULT_LIMITS, maxPayloadBytes: 1000 } });
    try {
      const large = await send(waiting, { type: "x", payload: "y".repeat(2000) });
      expect([large.status, (await errorOf(large)).code]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
    } finally {
      configure({ limits: DEFAULT_LIMITS });
    }
    expect(await snapshotWorld(world)).toBe(before);
  });
});

describe("POST /hooks/:token", () => {
  it("delivers a JSON payload to the waiting run", async () => {
    const runId = await startRun("approval", ["tok-approve-1"]);
    await until(
      () => getHookByToken("tok-approve-1").catch(() => undefined),
      (hook) => hook !== undefined,
    );
    const response = await call(served.origin, `${base}/hooks/tok-approve-1`, {
      method: "POST",
      json: { payload: { approved: true, by: "ada" } },
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ runId, token: "tok-approve-1" });
    expect((await result(runId)).body).toMatchObject({ output: { received: { approved: true, by: "ada" } } });
  });

  it("refuses an unknown token and the token of a run that has ended (404), writing nothing", async () => {
    const unknown = await call(served.origin, `${base}/hooks/forged-token`, {
      method: "POST",
      json: { payload: 1 },
    });
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe("HOOK_NOT_FOUND");

    const runId = await startRun("approval", ["tok-once"]);
    await until(
      () => getHookByToken("tok-once").catch(() => undefined),
      (hook) => hook !== undefined,
    );
    await call(served.origin, `${base}/hooks/tok-once`, { method: "POST", json: { payload: "first" } });
    expect((await result(runId)).body).toMatchObject({ output: { received: "first" } });
    const seq = (await world.runs.get(runId)).seq;
    const late = await call(served.origin, `${base}/hooks/tok-once`, {
      method: "POST",
      json: { payload: "late" },
    });
    expect(late.status).toBe(404);
    expect((await world.runs.get(runId)).seq).toBe(seq);
    expect(await world.inbox.list(runId)).toHaveLength(0);
  });

  it("takes tokens with characters that need encoding, slashes included", async () => {
    const token = "order 7/approval?x=1&y=%";
    const runId = await startRun("approval", [token]);
    await until(
      () => getHookByToken(token).catch(() => undefined),
      (hook) => hook !== undefined,
    );
    const response = await call(served.origin, `${base}/hooks/${encodeURIComponent(token)}`, {
      method: "POST",
      json: { payload: "ok" },
    });
    expect(response.status).toBe(202);
    expect((await result(runId)).body).toMatchObject({ output: { received: "ok" } });
  });
});
