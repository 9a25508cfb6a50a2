/**
 * The worker protocol's handler on a memory World, request by request: authentication first,
 * versions, operations, bodies (each refusal with its status and stable code, and nothing written),
 * fencing errors with their fields, worker registration and its conflicts, task leases as long
 * polls that only hand out the registered workflows' runs, stream tails, the notification stream,
 * and a shutdown that ends every long poll at once.
 */
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeJson } from "../../src/protocol/schema.ts";
import { createProtocolHandler, type ProtocolHandler } from "../../src/server/protocol-handler.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";

const SECRET = "s".repeat(40);
const BASE = "http://stepwise.test/stepwise/protocol";
let world: World;
let handler: ProtocolHandler;

beforeEach(() => {
  world = createMemoryWorld();
  handler = createProtocolHandler({ world, secret: SECRET, maxBodyBytes: 64 * 1024 });
});
afterEach(async () => {
  handler.close();
  await world.close();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return handler(
    new Request(`${BASE}/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : encodeJson(body),
    }),
  );
}

async function refused(
  response: Response,
  status: number,
  code: string,
): Promise<{ message: string; details?: Record<string, unknown>; issues?: { path: unknown[] }[] }> {
  const body = (await response.json()) as {
    error: {
      code: string;
      message: string;
      details?: Record<string, unknown>;
      issues?: { path: unknown[] }[];
    };
  };
  expect({ status: response.status, code: body.error.code }).toEqual({ status, code });
  return body.error;
}

const run = (runId = "wrun_a", workflowName = "wf") => ({
  runId,
  workflowName,
  specVersion: 5,
  seed: "0123456789abcdef0123456789abcdef",
  encrypted: false,
  input: new Uint8Array([1, 2, 3]),
});

describe("refusals", () => {
  it("401 before anything else: no secret or the wrong one, whatever the path", async () => {
    for (const path of ["v1/runs/get", "v9/runs/get", "v1/nothing", ""]) {
      const bare = await handler(new Request(`${BASE}/${path}`, { method: "POST", body: "{}" }));
      await refused(bare, 401, "UNAUTHORIZED");
      const wrong = await post(path, {}, { authorization: "Bearer wrong" });
      await refused(wrong, 401, "UNAUTHORIZED");
    }
  });

  it("a version the server does not speak is a 400 naming the versions it does", async () => {
    const error = await refused(
      await post("v2/runs/get", { runId: "x" }),
      400,
      "PROTOCOL_VERSION_UNSUPPORTED",
    );
    expect(error.message).toContain("v1");
    expect(error.details).toEqual({ versions: ["v1"] });
    const versions = await handler(new Request(BASE, { headers: { authorization: `Bearer ${SECRET}` } }));
    expect(await versions.json()).toEqual({ versions: ["v1"] });
  });

  it("unknown operations, wrong methods and media types", async () => {
    await refused(await post("v1/runs/explode", {}), 404, "OPERATION_NOT_FOUND");
    const get = await handler(
      new Request(`${BASE}/v1/runs/get`, { headers: { authorization: `Bearer ${SECRET}` } }),
    );
    await refused(get, 405, "METHOD_NOT_ALLOWED");
    await refused(
      await post("v1/runs/get", '{"runId":"x"}', { "content-type": "text/plain" }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
  });

  it("malformed bodies are 400s that say where, and write nothing", async () => {
    await refused(await post("v1/runs/create", "{not json"), 400, "INVALID_JSON");
    const wrongType = await refused(
      await post("v1/runs/create", { run: { ...run(), seq: 3 } }),
      400,
      "INVALID_BODY",
    );
    expect(wrongType.issues?.map((issue) => issue.path)).toEqual([["run", "seq"]]);
    const badBytes = await refused(
      await post("v1/runs/create", { run: { ...run(), input: "not base64!" } }),
      400,
      "INVALID_BODY",
    );
    expect(badBytes.message).toContain("run.input");
    const missing = await refused(await post("v1/events/append", { runId: "wrun_a" }), 400, "INVALID_BODY");
    expect(missing.message).toContain("expectedSeq: required field is missing");
    expect((await world.runs.list()).items).toEqual([]);
  });

  it("a body over the limit is a 413, and writes nothing", async () => {
    const big = { run: { ...run(), input: new Uint8Array(100 * 1024) } };
    await refused(await post("v1/runs/create", big), 413, "BODY_TOO_LARGE");
    expect((await world.runs.list()).items).toEqual([]);
  });

  it("stale fencing: a sequence conflict and a lost lease, with their fields, change nothing", async () => {
    expect((await post("v1/runs/create", { run: run() })).status).toBe(200);
    await world.runs.acquire("wrun_a", "owner-a", 60_000);
    const stale = await refused(
      await post("v1/events/append", { runId: "wrun_a", expectedSeq: 7, owner: "owner-a", events: [] }),
      409,
      "SEQUENCE_CONFLICT",
    );
    expect(stale.details).toEqual({ runId: "wrun_a", expectedSeq: 7, actualSeq: 1 });
    await refused(
      await post("v1/events/append", {
        runId: "wrun_a",
        expectedSeq: 1,
        owner: "owner-b",
        events: [{ type: "run_started", data: {} }],
      }),
      409,
      "LEASE_LOST",
    );
    expect((await world.runs.get("wrun_a")).seq).toBe(1);
  });

  it("an append with returnEvents: false stores the events and answers without them", async () => {
    await post("v1/runs/create", { run: run() });
    await world.runs.acquire("wrun_a", "owner-a", 60_000);
    const events = [
      { type: "run_started", data: {}, createdAt: 1000 },
      {
        type: "step_started",
        data: { stepId: "step_1", stepName: "s", attempt: 1 },
        payload: new Uint8Array([1, 2]),
      },
    ];
    const lean = await post("v1/events/append", {
      runId: "wrun_a",
      expectedSeq: 1,
      owner: "owner-a",
      events,
      returnEvents: false,
    });
    expect(lean.status).toBe(200);
    const answer = (await lean.json()) as { seq: number; events: unknown[]; run: { seq: number } };
    expect(answer).toMatchObject({ seq: 3, events: [], run: { seq: 3 } });
    // Stored all the same, numbered seq - n + 1 … seq.
    const stored = await world.events.list("wrun_a");
    expect(stored.map((event) => [event.seq, event.type])).toEqual([
      [1, "run_created"],
      [2, "run_started"],
      [3, "step_started"],
    ]);
    expect([...(stored[2]?.payload ?? [])]).toEqual([1, 2]);
    // Without the flag (or with true), the answer echoes them as stored.
    const echoed = (await (
      await post("v1/events/append", {
        runId: "wrun_a",
        expectedSeq: 3,
        owner: "owner-a",
        events: [{ type: "step_completed", data: { stepId: "step_1", attempt: 1 } }],
        returnEvents: true,
      })
    ).json()) as { seq: number; events: { seq: number; type: string }[] };
    expect(echoed.events.map((event) => [event.seq, event.type])).toEqual([[4, "step_completed"]]);
  });

  it("a write past the run's byte budget is a 413 PAYLOAD_TOO_LARGE", async () => {
    await post("v1/runs/create", { run: run() });
    await refused(
      await post("v1/inbox/put", {
        item: { runId: "wrun_a", kind: "event", eventType: "x", payload: new Uint8Array(100) },
        maxRunBytes: 50,
      }),
      413,
      "PAYLOAD_TOO_LARGE",
    );
    expect(await world.inbox.list("wrun_a")).toEqual([]);
  });
});

describe("workers and task leases", () => {
  it("registers workers and refuses one version under two digests, registering nothing", async () => {
    const first = await post("v1/workers/register", {
      language: "python",
      workflows: [{ name: "wf", version: "3", digest: "aaa" }],
      steps: ["a"],
    });
    expect(first.status).toBe(200);
    const conflict = await refused(
      await post("v1/workers/register", {
        language: "python",
        workflows: [{ name: "wf", version: "3", digest: "bbb" }],
      }),
      409,
      "WORKFLOW_VERSION_CONFLICT",
    );
    expect(conflict.message).toContain("new version");
    const same = await post("v1/workers/register", {
      language: "typescript",
      workflows: [{ name: "wf", version: "3", digest: "aaa" }],
    });
    expect(same.status).toBe(200);
    const { workers } = (await (await post("v1/workers/list", {})).json()) as {
      workers: { language: string }[];
    };
    expect(workers.map((worker) => worker.language)).toEqual(["python", "typescript"]);
  });

  it("a lease for an unknown worker is a 404 that says to register again", async () => {
    const error = await refused(
      await post("v1/tasks/lease", { workerId: "worker_gone", limit: 1, leaseMs: 1000 }),
      404,
      "WORKER_NOT_FOUND",
    );
    expect(error.message).toContain("Register again");
  });

  it("a lease long-polls: it answers when a run of a registered workflow arrives, and never with another workflow's", async () => {
    const registered = (await (
      await post("v1/workers/register", { language: "python", workflows: [{ name: "mine" }] })
    ).json()) as { worker: { workerId: string } };
    const workerId = registered.worker.workerId;
    const started = Date.now();
    const lease = post("v1/tasks/lease", { workerId, limit: 5, leaseMs: 30_000, waitMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await world.runs.create(run("wrun_other", "theirs"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await world.runs.create(run("wrun_mine", "mine"));
    const { messages } = (await (await lease).json()) as {
      messages: { runId: string; lease: { owner: string } }[];
    };
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(messages.map((message) => [message.runId, message.lease.owner])).toEqual([
      ["wrun_mine", workerId],
    ]);
    const empty = (await (
      await post("v1/tasks/lease", { workerId, limit: 5, leaseMs: 1000, waitMs: 200 })
    ).json()) as {
      messages: unknown[];
    };
    expect(empty.messages).toEqual([]);
  });

  it("a delayed message ends a long poll when it comes due", async () => {
    await world.runs.create(run());
    const [start] = await world.queue.claim("setup", { limit: 1, leaseMs: 60_000 });
    await world.queue.ack("setup", [start?.messageId ?? ""]);
    await world.queue.enqueue([{ runId: "wrun_a", kind: "wake", availableAt: Date.now() + 300 }]);
    const response = await post("v1/queue/claim", { owner: "w", limit: 1, leaseMs: 1000, waitMs: 5000 });
    const { messages } = (await response.json()) as { messages: { kind: string }[] };
    expect(messages.map((message) => message.kind)).toEqual(["wake"]);
  });

  it("closing the handler ends long polls at once", async () => {
    const started = Date.now();
    const poll = post("v1/queue/claim", { owner: "w", limit: 1, leaseMs: 1000, waitMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    handler.close();
    expect(((await (await poll).json()) as { messages: unknown[] }).messages).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe("streams and notifications", () => {
  it("a stream read with waitMs tails: it answers when a chunk is written", async () => {
    await world.runs.create(run());
    await world.streams.write("wrun_a", "out", [new Uint8Array([1])]);
    const tail = post("v1/streams/read", { runId: "wrun_a", name: "out", from: 1, waitMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await world.streams.write("wrun_a", "out", [new Uint8Array([2])]);
    const { chunks } = (await (await tail).json()) as { chunks: { index: number; data: string }[] };
    expect(chunks.map((chunk) => [chunk.index, chunk.data])).toEqual([[1, "Ag=="]]);
  });

  it("the notification stream says ready, then sends the World's hints", async () => {
    const abort = new AbortController();
    const response = await handler(
      new Request(`${BASE}/v1/notifications`, {
        headers: { authorization: `Bearer ${SECRET}` },
        signal: abort.signal,
      }),
    );
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) text += decoder.decode((await reader.read()).value);
    };
    await readUntil("event: ready");
    await world.runs.create(run());
    await readUntil('"runId":"wrun_a"');
    await readUntil("\n\n");
    const hints = [...text.matchAll(/^data: (.*)$/gm)].map((match) => JSON.parse(match[1] as string));
    expect(hints).toContainEqual(expect.objectContaining({ type: "run", runId: "wrun_a" }));
    expect(hints).toContainEqual({ type: "queue" });
    expect(handler.stats().streams).toBe(1);
    abort.abort();
    await reader.cancel();
    expect(handler.stats().streams).toBe(0);
  });
});

describe("over node:http (the listener the server uses)", () => {
  it("refuses and answers as the fetch handler does: 401 first, 413, 400 with issues, 200", async () => {
    const { createServer } = await import("node:http");
    const server = createServer(handler.listener);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const send = async (path: string, body: string, headers: Record<string, string> = {}) => {
      const response = await fetch(`http://127.0.0.1:${port}/stepwise/protocol/${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json", ...headers },
        body,
      });
      return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
    };
    try {
      expect((await send("v1/runs/get", "{}", { authorization: "Bearer nope" })).body.error?.code).toBe(
        "UNAUTHORIZED",
      );
      const big = await send("v1/runs/create", JSON.stringify({ pad: "x".repeat(100_000) }));
      expect([big.status, big.body.error?.code]).toEqual([413, "BODY_TOO_LARGE"]);
      const bad = await send("v1/runs/get", JSON.stringify({ runId: 7 }));
      expect([bad.status, bad.body.error?.code]).toEqual([400, "INVALID_BODY"]);
      const missing = await send("v1/runs/get", JSON.stringify({ runId: "wrun_missing" }));
      expect([missing.status, missing.body.error?.code]).toEqual([404, "RUN_NOT_FOUND"]);
      const created = await send("v1/runs/create", encodeJson({ run: run() }));
      expect(created.status).toBe(200);
      expect((await world.runs.get("wrun_a")).input).toEqual(new Uint8Array([1, 2, 3]));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("the node listener", () => {
  it("a long poll whose client goes away stops waiting at once", async () => {
    const server = createServer(handler.listener);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const send = (path: string, body: unknown) => {
      const text = encodeJson(body);
      const req = httpRequest({
        host: "127.0.0.1",
        port,
        method: "POST",
        path: `/stepwise/protocol/v1/${path}`,
        headers: {
          authorization: `Bearer ${SECRET}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(text),
        },
      });
      req.on("error", () => {}); // the poll's request is destroyed below
      req.end(text);
      return req;
    };
    try {
      const answered = new Promise<number>((resolve) =>
        send("runs/list", { filter: {} }).on("response", (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }),
      );
      expect(await answered).toBe(200);
      const poll = send("queue/claim", { owner: "w", limit: 1, leaseMs: 10_000, waitMs: 30_000 });
      const waiting = async (count: number) => {
        for (let i = 0; i < 200 && handler.stats().waiting !== count; i++)
          await new Promise((r) => setTimeout(r, 10));
        return handler.stats().waiting;
      };
      expect(await waiting(1)).toBe(1);
      poll.destroy();
      // The signal made for the poll aborts when its connection closes: the wait ends at once, not in 30 s.
      expect(await waiting(0)).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
