/**
 * Webhook URLs over real HTTP: no API secret needed (the token is the secret), the request reaches
 * the workflow intact, the response is the webhook's (202 or the workflow's own), and unknown
 * tokens, plain hooks' tokens and oversized bodies are refused without a trace.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { configure, shutdown, start } from "../../src/api/index.ts";
import { toNodeListener } from "../../src/http/adapters/node.ts";
import { createHandler } from "../../src/http/index.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { call, errorOf, type Served, serve, snapshotWorld, until } from "./helpers.ts";
import { wf } from "./workflows.ts";

let world: World;
let served: Served;

beforeAll(async () => {
  // No secret at all: the run API is closed, webhook URLs still work.
  served = await serve(toNodeListener(createHandler({ secret: "", maxWebhookBodyBytes: 64 * 1024 })));
});
afterAll(() => served.close());
beforeEach(() => {
  world = createMemoryWorld();
  configure({ world, worker: { holdMs: 0 } });
});
afterEach(() => shutdown());

async function webhookOf(runId: string): Promise<{ token: string; path: string }> {
  const [hook] = await until(
    () => world.hooks.list({ runId }),
    (hooks) => hooks.length === 1,
  );
  const token = hook?.token ?? "";
  return { token, path: `/stepwise/webhooks/${encodeURIComponent(token)}` };
}

describe("webhook URLs", () => {
  it("deliver the request to the workflow and answer 202, without the API secret", async () => {
    const run = await start(wf.webhookDefault, []);
    const { path } = await webhookOf(run.runId);
    const response = await call(served.origin, `${path}?source=test`, {
      method: "PUT",
      auth: false,
      body: "ping <b>",
      headers: { "content-type": "text/plain" },
    });
    expect(response.status).toBe(202);
    expect(await run.returnValue).toMatchObject({
      method: "PUT",
      body: "ping <b>",
      type: "text/plain",
    });
    expect(((await run.returnValue) as { url: string }).url).toMatch(
      /\/stepwise\/webhooks\/[0-9a-z]+\?source=test$/,
    );
  });

  it("answer with the workflow's own response in manual mode", async () => {
    const run = await start(wf.webhookManual, []);
    const { path } = await webhookOf(run.runId);
    const response = await call(served.origin, path, { method: "POST", auth: false, json: { n: 21 } });
    expect(response.status).toBe(201);
    expect(response.headers.get("x-run")).toBe("yes");
    expect(await response.json()).toEqual({ doubled: 42 });
    expect(await run.returnValue).toBe(21);
  });

  it("refuse forged tokens, plain hooks' tokens and ended runs alike (404), naming no run", async () => {
    const hooked = await start(wf.approval, ["plain-token-1"]);
    await webhookOf(hooked.runId);
    const before = await snapshotWorld(world);
    for (const token of ["forged", "plain-token-1", "0".repeat(32), "a%2Fb", "..."]) {
      const response = await call(served.origin, `/stepwise/webhooks/${token}`, {
        method: "POST",
        auth: false,
        body: "x",
      });
      expect(response.status, token).toBe(404);
      const error = await errorOf(response);
      expect(error.code).toBe("WEBHOOK_NOT_FOUND");
      expect(error.message).not.toContain("wrun_");
    }
    // A traversal out of /webhooks lands on the route it names, guarded by the secret (here: none).
    for (const attempt of ["%2e%2e/runs", "../health", "x/%2e%2e/%2e%2e/runs"]) {
      const response = await call(served.origin, `/stepwise/webhooks/${attempt}`, {
        method: "POST",
        auth: false,
        body: "x",
      });
      expect(response.status, attempt).toBe(503);
    }
    expect(await snapshotWorld(world)).toBe(before);

    const done = await start(wf.webhookDefault, []);
    const { path } = await webhookOf(done.runId);
    expect((await call(served.origin, path, { method: "POST", auth: false, body: "1" })).status).toBe(202);
    await done.returnValue;
    const late = await call(served.origin, path, { method: "POST", auth: false, body: "2" });
    expect(late.status).toBe(404);
    expect((await errorOf(late)).message).not.toContain(done.runId);
  });

  it("refuse a body over the limit (413), announced or not, and store nothing", async () => {
    const run = await start(wf.webhookDefault, []);
    const { path } = await webhookOf(run.runId);
    const before = await snapshotWorld(world);
    const announced = await call(served.origin, path, {
      method: "POST",
      auth: false,
      body: "x".repeat(70_000),
    });
    expect(announced.status).toBe(413);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new Uint8Array(8 * 1024));
        controller.close();
      },
    });
    const streamed = await call(served.origin, path, { method: "POST", auth: false, body: chunked });
    expect(streamed.status).toBe(413);
    expect((await errorOf(streamed)).code).toBe("PAYLOAD_TOO_LARGE");
    expect(await snapshotWorld(world)).toBe(before);
    // The webhook still works afterwards.
    expect((await call(served.origin, path, { method: "POST", auth: false, body: "small" })).status).toBe(
      202,
    );
    expect(await run.returnValue).toMatchObject({ body: "small" });
  });

  it("leave the run API closed when no secret is configured", async () => {
    const response = await call(served.origin, "/stepwise/health", { auth: false });
    expect(response.status).toBe(503);
    expect((await errorOf(response)).code).toBe("HTTP_SECRET_NOT_SET");
  });
});
