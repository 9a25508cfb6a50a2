/**
 * `createHandler({ client })`: the run API works through the client it is given — its World, its
 * payload keys and limits — and never through the process's. Real HTTP (Node adapter), a memory
 * World with its own `Worker`, and the process configured on another World that must stay empty.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { configure, createClient, shutdown } from "../../src/api/index.ts";
import { toNodeListener } from "../../src/http/adapters/node.ts";
import { createHandler } from "../../src/http/index.ts";
import { Worker } from "../../src/runtime/worker.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { call, SECRET, type Served, serve, until } from "./helpers.ts";
import "./workflows.ts";

const base = "/stepwise";
let world: World;
let processWorld: World;
let worker: Worker;
let served: Served;

beforeAll(async () => {
  world = createMemoryWorld();
  worker = new Worker({ world, holdMs: 0 });
  worker.start();
  const client = createClient({ world, limits: { maxPayloadBytes: 4_000, maxRunBytes: 1_000_000 } });
  served = await serve(toNodeListener(createHandler({ client, secret: SECRET, cancelWaitMs: 2_000 })));
});
afterAll(async () => {
  await served.close();
  await worker.stop();
  await world.close();
});
afterEach(async () => {
  // Whatever a test did, the process's own World never saw a run.
  expect((await processWorld.runs.list({})).items).toEqual([]);
  await shutdown();
});

function processOnItsOwnWorld(): void {
  processWorld = createMemoryWorld();
  configure({ world: processWorld, inProcessWorker: false });
}

async function startRun(workflow: string, args: unknown[]): Promise<string> {
  const response = await call(served.origin, `${base}/runs`, { method: "POST", json: { workflow, args } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { runId: string }).runId;
}

async function outcome(runId: string): Promise<Record<string, unknown>> {
  const response = await call(served.origin, `${base}/runs/${runId}/result?wait=5000`);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function tokenOf(runId: string): Promise<string> {
  const hooks = await until(
    () => world.hooks.list({ runId }),
    (found) => found.length > 0,
  );
  return (hooks[0] as { token: string }).token;
}

describe("createHandler({ client })", () => {
  it("starts, lists, reads and runs runs in the client's World", async () => {
    processOnItsOwnWorld();
    const runId = await startRun("greeter", ["ada"]);
    expect(await outcome(runId)).toMatchObject({ runId, status: "completed" });
    expect((await world.runs.get(runId)).status).toBe("completed");
    const listed = await call(served.origin, `${base}/runs`);
    expect(((await listed.json()) as { runs: { runId: string }[] }).runs.map((r) => r.runId)).toContain(
      runId,
    );
    const health = (await (await call(served.origin, `${base}/health`)).json()) as {
      world: { name: string };
      worker: { running: boolean; reason: string };
    };
    expect(health.world.name).toBe("memory");
    expect(health.worker).toMatchObject({ running: false });
    expect(health.worker.reason).toMatch(/client executes nothing in this process/);
  });

  it("resumes hooks and webhooks and sends events through the client, within its limits", async () => {
    processOnItsOwnWorld();
    const approval = await startRun("approval", ["client-approval"]);
    await tokenOf(approval);
    const tooBig = await call(served.origin, `${base}/hooks/client-approval`, {
      method: "POST",
      json: { payload: "x".repeat(5_000) },
    });
    expect(tooBig.status).toBe(413);
    const resumed = await call(served.origin, `${base}/hooks/client-approval`, {
      method: "POST",
      json: { payload: { ok: true } },
    });
    expect(resumed.status).toBe(202);
    expect(await outcome(approval)).toMatchObject({ output: { received: { ok: true } } });

    const waiter = await startRun("eventWaiter", ["client.go"]);
    const sent = await call(served.origin, `${base}/runs/${waiter}/events`, {
      method: "POST",
      json: { type: "client.go", payload: { n: 1 } },
    });
    expect(sent.status).toBe(202);
    expect(await outcome(waiter)).toMatchObject({ output: { type: "client.go", payload: { n: 1 } } });

    const hooked = await startRun("webhookDefault", []);
    const token = await tokenOf(hooked);
    const delivered = await call(served.origin, `${base}/webhooks/${encodeURIComponent(token)}`, {
      method: "POST",
      body: "hello",
      headers: { "content-type": "text/plain" },
      auth: false,
    });
    expect(delivered.status).toBe(202);
    expect(await outcome(hooked)).toMatchObject({ output: { method: "POST", body: "hello" } });
  });

  it("cancels, pauses, resumes and restarts runs of the client's World", async () => {
    processOnItsOwnWorld();
    const runId = await startRun("sleeper", ["1h"]);
    await until(
      () => world.runs.get(runId),
      (run) => run.status === "running" && run.lease === undefined,
    );
    const paused = await call(served.origin, `${base}/runs/${runId}/pause`, { method: "POST" });
    expect(await paused.json()).toMatchObject({ runId, status: "paused" });
    const resumed = await call(served.origin, `${base}/runs/${runId}/resume`, { method: "POST" });
    expect(resumed.status).toBe(200);
    const restarted = await call(served.origin, `${base}/runs/${runId}/restart`, { method: "POST" });
    expect(await restarted.json()).toMatchObject({ runId, generation: 2 });
    await until(
      () => world.runs.get(runId),
      (run) => run.status === "running" && run.lease === undefined,
    );
    const cancelled = await call(served.origin, `${base}/runs/${runId}/cancel`, { method: "POST" });
    expect(await cancelled.json()).toEqual({ runId, status: "cancelled" });
    expect((await world.runs.get(runId)).status).toBe("cancelled");
  });
});
