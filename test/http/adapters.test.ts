/**
 * The adapters, each behind a real server on 127.0.0.1: Node's `http` (toNodeListener), Hono
 * (served by @hono/node-server, as Hono apps usually are on Node) and Express (the middleware,
 * mounted at the root and under a prefix). The same scenario runs through each: auth, start and
 * result, a hook, a webhook, a streamed NDJSON tail with a disconnect, a body over the limit, and
 * the application's own routes still answering.
 */
import { getRequestListener } from "@hono/node-server";
import express from "express";
import { Hono } from "hono";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, shutdown, start } from "../../src/api/index.ts";
import {
  createHandler,
  expressMiddleware,
  honoRoute,
  type StepwiseHandler,
  toNodeListener,
} from "../../src/http/index.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { call, errorOf, SECRET, type Served, serve, until } from "./helpers.ts";
import { openGate, wf } from "./workflows.ts";

let world: World;
beforeEach(() => {
  world = createMemoryWorld();
  configure({ world, worker: { holdMs: 0 } });
});
afterEach(() => shutdown());

const makeHandler = (): StepwiseHandler => createHandler({ secret: SECRET, maxBodyBytes: 4096 });

/** The scenario every adapter must carry. `appPath` is one of the application's own routes. */
async function scenario(origin: string, appPath: string | undefined): Promise<void> {
  expect((await call(origin, "/stepwise/health")).status).toBe(200);
  expect((await call(origin, "/stepwise/health", { auth: false })).status).toBe(401);

  const started = await call(origin, "/stepwise/runs", {
    method: "POST",
    json: { workflow: "greeter", args: ["ada"] },
  });
  expect(started.status).toBe(201);
  const { runId } = (await started.json()) as { runId: string };
  const result = await call(origin, `/stepwise/runs/${runId}/result?wait=5000`);
  expect(await result.json()).toMatchObject({ status: "completed", output: { hello: "ada" } });

  const waiting = await start(wf.approval, [`tok-${Math.random()}`]);
  const [hook] = await until(
    () => world.hooks.list({ runId: waiting.runId }),
    (hooks) => hooks.length === 1,
  );
  const resumed = await call(origin, `/stepwise/hooks/${encodeURIComponent(hook?.token ?? "")}`, {
    method: "POST",
    json: { payload: "yes" },
  });
  expect(resumed.status).toBe(202);
  expect(await waiting.returnValue).toEqual({ received: "yes" });

  const webhookRun = await start(wf.webhookDefault, []);
  const [webhook] = await until(
    () => world.hooks.list({ runId: webhookRun.runId }),
    (hooks) => hooks.length === 1,
  );
  const delivered = await call(origin, `/stepwise/webhooks/${webhook?.token}`, {
    method: "POST",
    auth: false,
    body: "hi",
  });
  expect(delivered.status).toBe(202);
  expect(await webhookRun.returnValue).toMatchObject({ body: "hi", method: "POST" });

  // A live tail: two chunks, a disconnect while the run is paused, then the rest from index 2.
  const key = `tail-${Math.random()}`;
  const producing = await start(wf.producer, [key, 5, [2]]);
  const controller = new AbortController();
  const tail = await call(origin, `/stepwise/runs/${producing.runId}/streams/default`, {
    signal: controller.signal,
  });
  expect(tail.status).toBe(200);
  const reader = (tail.body as ReadableStream<Uint8Array>).getReader();
  let text = "";
  while (text.split("\n").length < 3) {
    const { value } = await reader.read();
    text += new TextDecoder().decode(value);
  }
  controller.abort();
  expect(
    text
      .split("\n")
      .slice(0, 2)
      .map((line) => (JSON.parse(line) as { index: number }).index),
  ).toEqual([0, 1]);
  await openGate(`${key}:2`);
  await producing.returnValue;
  const rest = await call(origin, `/stepwise/runs/${producing.runId}/streams/default?startIndex=2`);
  const lines = (await rest.text()).trim().split("\n");
  expect(lines.map((line) => (JSON.parse(line) as { index: number }).index)).toEqual([2, 3, 4]);

  const big = await call(origin, "/stepwise/runs", {
    method: "POST",
    json: { workflow: "x".repeat(10_000) },
  });
  expect(big.status).toBe(413);
  expect((await errorOf(big)).code).toBe("BODY_TOO_LARGE");

  if (appPath !== undefined) {
    const own = await call(origin, appPath, { auth: false });
    expect(own.status).toBe(200);
    expect(await own.text()).toBe("the app");
  }
}

async function withServer(served: Served, run: (origin: string) => Promise<void>): Promise<void> {
  try {
    await run(served.origin);
  } finally {
    await served.close();
  }
}

describe("Node http", () => {
  it("serves the whole API through toNodeListener", async () => {
    await withServer(await serve(toNodeListener(makeHandler())), (origin) => scenario(origin, undefined));
  });

  it("answers HEAD without a body and passes several Set-Cookie headers", async () => {
    const listener = toNodeListener(async (request) => {
      const headers = new Headers({ "content-type": "text/plain" });
      headers.append("set-cookie", "a=1");
      headers.append("set-cookie", "b=2");
      return new Response(request.method === "HEAD" ? null : "body", { headers });
    });
    await withServer(await serve(listener), async (origin) => {
      const head = await fetch(origin, { method: "HEAD" });
      expect(await head.text()).toBe("");
      const get = await fetch(origin);
      expect(get.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
      expect(await get.text()).toBe("body");
    });
  });
});

describe("Hono", () => {
  it("serves the API under the base path next to the app's own routes", async () => {
    const stepwise = makeHandler();
    const app = new Hono();
    app.get("/hello", (c) => c.text("the app"));
    app.all(`${stepwise.basePath}/*`, honoRoute(stepwise));
    await withServer(await serve(getRequestListener(app.fetch)), (origin) => scenario(origin, "/hello"));
  });
});

describe("Express", () => {
  it("serves the API as a middleware at the root, passing other paths on", async () => {
    const app = express();
    app.use(expressMiddleware(makeHandler()));
    app.get("/hello", (_req, res) => {
      res.send("the app");
    });
    await withServer(await serve(app), (origin) => scenario(origin, "/hello"));
  });

  it("works mounted under its base path", async () => {
    const app = express();
    app.use("/stepwise", expressMiddleware(makeHandler()));
    app.get("/hello", (_req, res) => {
      res.send("the app");
    });
    await withServer(await serve(app), (origin) => scenario(origin, "/hello"));
  });

  it("says so when a body parser read the body first", async () => {
    const app = express();
    app.use(express.json());
    app.use(expressMiddleware(makeHandler()));
    await withServer(await serve(app), async (origin) => {
      const response = await call(origin, "/stepwise/runs", {
        method: "POST",
        json: { workflow: "greeter" },
      });
      expect(response.status).toBe(500);
      expect((await errorOf(response)).code).toBe("BODY_ALREADY_READ");
      expect((await world.runs.list()).items).toHaveLength(0);
    });
  });
});
