/**
 * End to end on the local SQLite World, over real HTTP: start runs by name, long-poll their
 * results, resume a hook, deliver to a webhook, tail a stream across a reconnect, cancel a
 * sleeping run — then close everything, reopen the database file with a fresh World, and find
 * every outcome recorded there.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { configure, shutdown } from "../../src/api/index.ts";
import { createHandler, toNodeListener } from "../../src/http/index.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { call, SECRET, type Served, serve, until } from "./helpers.ts";
import { openGate } from "./workflows.ts";

let dataDir: string;
let world: World;
let served: Served;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "stepwise-http-e2e-"));
  world = createLocalWorld({ dataDir });
  configure({ world, worker: { holdMs: 0 } });
  served = await serve(toNodeListener(createHandler({ secret: SECRET })));
});
afterAll(async () => {
  await served.close();
  await shutdown();
  rmSync(dataDir, { recursive: true, force: true });
});

async function startRun(workflow: string, args: unknown[]): Promise<string> {
  const response = await call(served.origin, "/stepwise/runs", { method: "POST", json: { workflow, args } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { runId: string }).runId;
}

async function resultOf(runId: string): Promise<Record<string, unknown>> {
  const response = await call(served.origin, `/stepwise/runs/${runId}/result?wait=10000`);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function lines(response: Response): Promise<number[]> {
  return (await response.text())
    .trim()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (JSON.parse(line) as { index: number }).index);
}

it("runs the whole API on the local World, and the outcomes are in the database", async () => {
  const health = await call(served.origin, "/stepwise/health");
  expect(await health.json()).toMatchObject({ ok: true, world: { name: "local", reachable: true } });

  const greeter = await startRun("greeter", ["sqlite"]);
  expect(await resultOf(greeter)).toMatchObject({ status: "completed", output: { hello: "sqlite" } });

  const approval = await startRun("approval", ["e2e-approval"]);
  await until(
    () => world.hooks.list({ runId: approval, status: "active" }),
    (hooks) => hooks.length === 1,
  );
  const resumed = await call(served.origin, "/stepwise/hooks/e2e-approval", {
    method: "POST",
    json: { payload: [1, 2] },
  });
  expect(resumed.status).toBe(202);
  expect(await resultOf(approval)).toMatchObject({ output: { received: [1, 2] } });

  const webhookRun = await startRun("webhookDefault", []);
  const [webhook] = await until(
    () => world.hooks.list({ runId: webhookRun, status: "active" }),
    (hooks) => hooks.length === 1,
  );
  const delivered = await call(served.origin, `/stepwise/webhooks/${webhook?.token}`, {
    method: "POST",
    auth: false,
    body: "e2e",
  });
  expect(delivered.status).toBe(202);
  expect(await resultOf(webhookRun)).toMatchObject({ output: { body: "e2e" } });

  const producer = await startRun("producer", ["e2e-stream", 6, [3]]);
  const controller = new AbortController();
  const first = await call(served.origin, `/stepwise/runs/${producer}/streams/default`, {
    signal: controller.signal,
  });
  const reader = (first.body as ReadableStream<Uint8Array>).getReader();
  let text = "";
  while (text.split("\n").length < 4) text += new TextDecoder().decode((await reader.read()).value);
  controller.abort();
  const seen = text
    .trim()
    .split("\n")
    .map((line) => (JSON.parse(line) as { index: number }).index);
  expect(seen).toEqual([0, 1, 2]);
  const rest = call(served.origin, `/stepwise/runs/${producer}/streams/default?startIndex=3`);
  await openGate("e2e-stream:3");
  expect(await lines(await rest)).toEqual([3, 4, 5]);
  expect(await resultOf(producer)).toMatchObject({ output: 6 });

  const sleeper = await startRun("sleeper", ["1 day"]);
  await until(
    () => world.waits.list({ runId: sleeper }),
    (waits) => waits.length === 1,
  );
  const cancelled = await call(served.origin, `/stepwise/runs/${sleeper}/cancel`, { method: "POST" });
  expect(cancelled.status).toBe(200);

  await served.close();
  await shutdown();
  const reopened = createLocalWorld({ dataDir });
  try {
    const statuses = await Promise.all(
      [greeter, approval, webhookRun, producer, sleeper].map(
        async (id) => (await reopened.runs.get(id)).status,
      ),
    );
    expect(statuses).toEqual(["completed", "completed", "completed", "completed", "cancelled"]);
    expect((await reopened.streams.info(producer, "default")).length).toBe(6);
  } finally {
    await reopened.close();
  }
});
