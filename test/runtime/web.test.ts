import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { configure, getHookByToken, resumeWebhook, shutdown, start } from "../../src/api/index.ts";
import { PayloadTooLargeError } from "../../src/errors/runtime.ts";
import { HookNotFoundError } from "../../src/errors/world.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

let world: World;
beforeEach(() => {
  world = createMemoryWorld();
  configure({ world, limits: { maxPayloadBytes: 100_000, maxRunBytes: 10_000_000 } });
});
afterEach(async () => {
  await shutdown();
});

// A real HTTP server: fails the first request to /flaky with 503, then answers.
let server: Server;
let base = "";
const hits = new Map<string, number>();
beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      if (path === "/flaky" && hits.get(path) === 1) {
        res.writeHead(503, { "retry-after": "0" }).end("busy");
        return;
      }
      if (path === "/missing") {
        res.writeHead(404).end("no such thing");
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "x-echo": req.method ?? "" });
      res.end(JSON.stringify({ path, method: req.method, body }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const wf = defineWorkflows("test/web.ts", {
  steps: {},
  workflows: {
    fetcher: ({ api }) =>
      async function fetcher(url: string) {
        const response = await api.fetch(`${url}/flaky`, { method: "POST", body: "hello" });
        const missing = await api.fetch(`${url}/missing`);
        return {
          status: response.status,
          echo: response.headers.get("x-echo"),
          json: await response.json(),
          missing: missing.status,
          missingText: await missing.text(),
        };
      },
    accepted: ({ api }) =>
      async function accepted() {
        const webhook = api.createWebhook();
        const request = await webhook;
        return {
          url: webhook.url,
          token: webhook.token,
          method: request.method,
          body: await request.text(),
          type: request.headers.get("content-type"),
        };
      },
    staticReply: ({ api }) =>
      async function staticReply() {
        const webhook = api.createWebhook({ respondWith: Response.json({ thanks: true }, { status: 200 }) });
        const requests: string[] = [];
        for await (const request of webhook) {
          requests.push(await request.text());
          if (requests.length === 2) break;
        }
        return requests;
      },
    manual: ({ api }) =>
      async function manual() {
        const webhook = api.createWebhook({ respondWith: "manual" });
        const request = await webhook;
        const { n } = (await request.json()) as { n: number };
        await request.respondWith(
          new Response(`doubled ${n * 2}`, { status: 201, headers: { "x-run": "yes" } }),
        );
        return n;
      },
    plainHook: ({ api }) =>
      async function plainHook() {
        return await api.createHook({ token: "plain-hook-token" });
      },
  },
});

async function tokenOf(runId: string): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const [hook] = await world.hooks.list({ runId });
    if (hook) return hook.token;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("no hook");
}

describe("durable fetch", () => {
  it("runs as a step: a 503 is retried, a 404 is returned to the workflow", async () => {
    const run = await start(wf.fetcher, [base]);
    const result = await run.returnValue;
    expect(result).toEqual({
      status: 200,
      echo: "POST",
      json: { path: "/flaky", method: "POST", body: "hello" },
      missing: 404,
      missingText: "no such thing",
    });
    expect(hits.get("/flaky")).toBe(2);
    const steps = await world.steps.list(run.runId);
    expect(steps.map((s) => [s.stepName, s.status, s.attempt])).toEqual([
      ["step//stepwise//fetch", "completed", 2],
      ["step//stepwise//fetch", "completed", 1],
    ]);
  });
});

describe("webhooks", () => {
  it("delivers the request to the workflow and answers 202 by default", async () => {
    const run = await start(wf.accepted, []);
    const token = await tokenOf(run.runId);
    expect(token).toMatch(/^[0-9a-z]{32}$/);
    const response = await resumeWebhook(
      token,
      new Request("http://example.test/hook", {
        method: "POST",
        body: "ping",
        headers: { "content-type": "text/plain" },
      }),
    );
    expect(response.status).toBe(202);
    const result = (await run.returnValue) as Record<string, string>;
    expect(result).toMatchObject({ token, method: "POST", body: "ping", type: "text/plain" });
    expect(result.url).toBe(`http://localhost:3000/stepwise/webhooks/${token}`);
  });

  it("answers with the static response given at creation, to every request", async () => {
    const run = await start(wf.staticReply, []);
    const token = await tokenOf(run.runId);
    for (const body of ["one", "two"]) {
      const response = await resumeWebhook(token, new Request("http://x/", { method: "POST", body }));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ thanks: true });
    }
    expect(await run.returnValue).toEqual(["one", "two"]);
  });

  it("waits for the workflow's own response in manual mode", async () => {
    const run = await start(wf.manual, []);
    const token = await tokenOf(run.runId);
    const response = await resumeWebhook(
      token,
      new Request("http://x/", { method: "POST", body: JSON.stringify({ n: 21 }) }),
    );
    expect(response.status).toBe(201);
    expect(response.headers.get("x-run")).toBe("yes");
    expect(await response.text()).toBe("doubled 42");
    expect(await run.returnValue).toBe(21);
  });

  it("does not let a plain hook be resumed through the webhook path, and refuses unknown tokens", async () => {
    const run = await start(wf.plainHook, []);
    await tokenOf(run.runId);
    const plain = await resumeWebhook(
      "plain-hook-token",
      new Request("http://x/", { method: "POST", body: "{}" }),
    ).catch((e: unknown) => e);
    expect(HookNotFoundError.is(plain)).toBe(true);
    const unknown = await resumeWebhook("forged-token", new Request("http://x/")).catch((e: unknown) => e);
    expect(HookNotFoundError.is(unknown)).toBe(true);
    expect(await world.inbox.list(run.runId)).toHaveLength(0);
    expect((await getHookByToken("plain-hook-token")).kind).toBe("hook");
  });

  it("refuses a body over the payload limit, writing nothing", async () => {
    const run = await start(wf.accepted, []);
    const token = await tokenOf(run.runId);
    const failure = await resumeWebhook(
      token,
      new Request("http://x/", { method: "POST", body: "b".repeat(200_000) }),
    ).catch((e: unknown) => e);
    expect(PayloadTooLargeError.is(failure)).toBe(true);
    expect(await world.inbox.list(run.runId)).toHaveLength(0);
  });
});
