/**
 * Bad input to the run API, over real HTTP: malformed JSON, bad UTF-8, wrong content types,
 * oversized bodies (announced or streamed), bodies of the wrong shape, forged tokens, paths that
 * try to escape, unknown routes and methods. Each gets a clear 4xx with `{ error: { code,
 * message } }`, and the World is exactly as it was.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { configure, shutdown, start } from "../../src/api/index.ts";
import { toNodeListener } from "../../src/http/adapters/node.ts";
import { createHandler } from "../../src/http/index.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import {
  type CallOptions,
  call,
  errorOf,
  SECRET,
  type Served,
  serve,
  snapshotWorld,
  until,
} from "./helpers.ts";
import { wf } from "./workflows.ts";

let world: World;
let served: Served;
const LIMIT = 16 * 1024;

beforeAll(async () => {
  served = await serve(toNodeListener(createHandler({ secret: SECRET, maxBodyBytes: LIMIT })));
});
afterAll(() => served.close());
beforeEach(async () => {
  world = createMemoryWorld();
  configure({ world, worker: { holdMs: 0 } });
});
afterEach(() => shutdown());

/** Runs `cases` against the server and checks status, error code and that nothing changed. */
async function refuses(cases: [string, string, CallOptions, number, string][]): Promise<void> {
  const run = await start(wf.approval, ["tok-bad-input"]);
  await until(
    () => world.hooks.list({ runId: run.runId }),
    (hooks) => hooks.length === 1,
  );
  const before = await snapshotWorld(world);
  for (const [label, path, options, status, code] of cases) {
    const response = await call(served.origin, path.replace("RUN", run.runId), options);
    expect(response.status, label).toBe(status);
    const error = await errorOf(response);
    expect(error.code, label).toBe(code);
  }
  expect(await snapshotWorld(world)).toBe(before);
}

const post = (body: RequestInit["body"], type?: string): CallOptions => ({
  method: "POST",
  body,
  headers: type === undefined ? {} : { "content-type": type },
});
const json = "application/json";

describe("request bodies", () => {
  it("refuses malformed JSON, bad UTF-8 and wrong content types", async () => {
    await refuses([
      ["truncated JSON", "/stepwise/runs", post('{"workflow":"greeter"', json), 400, "INVALID_JSON"],
      ["not JSON", "/stepwise/runs", post("workflow=greeter", json), 400, "INVALID_JSON"],
      ["empty body", "/stepwise/runs", post("", json), 400, "INVALID_JSON"],
      ["NaN literal", "/stepwise/hooks/tok-bad-input", post('{"payload":NaN}', json), 400, "INVALID_JSON"],
      [
        "bad UTF-8",
        "/stepwise/runs",
        post(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), json),
        400,
        "INVALID_ENCODING",
      ],
      [
        "text/plain",
        "/stepwise/runs",
        post('{"workflow":"greeter"}', "text/plain"),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
      ],
      [
        "no content type",
        "/stepwise/hooks/tok-bad-input",
        post('{"payload":1}'),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
      ],
      [
        "form",
        "/stepwise/hooks/tok-bad-input",
        post("payload=1", "application/x-www-form-urlencoded"),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
      ],
      [
        "latin1 charset",
        "/stepwise/runs",
        post('{"workflow":"greeter"}', "application/json; charset=latin1"),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
      ],
      [
        "json-ish",
        "/stepwise/runs",
        post('{"workflow":"greeter"}', "application/jsonx"),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
      ],
    ]);
  });

  it("refuses oversized bodies, announced or streamed", async () => {
    const streamed = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"payload":"'));
          for (let i = 0; i < 64; i++) controller.enqueue(new Uint8Array(1024).fill(0x61));
          controller.enqueue(new TextEncoder().encode('"}'));
          controller.close();
        },
      });
    await refuses([
      [
        "announced",
        "/stepwise/runs",
        post(JSON.stringify({ workflow: "x".repeat(LIMIT) }), json),
        413,
        "BODY_TOO_LARGE",
      ],
      ["streamed", "/stepwise/hooks/tok-bad-input", post(streamed(), json), 413, "BODY_TOO_LARGE"],
      ["huge", "/stepwise/runs", post(new Uint8Array(8 * 1024 * 1024), json), 413, "BODY_TOO_LARGE"],
    ]);
  });

  it("refuses bodies of the wrong shape, saying which field is wrong", async () => {
    const body = (value: unknown) => post(JSON.stringify(value), json);
    await refuses([
      ["array", "/stepwise/runs", body([]), 400, "INVALID_BODY"],
      ["null", "/stepwise/runs", body(null), 400, "INVALID_BODY"],
      ["no workflow", "/stepwise/runs", body({ args: [] }), 400, "INVALID_BODY"],
      ["numeric workflow", "/stepwise/runs", body({ workflow: 7 }), 400, "INVALID_BODY"],
      ["empty workflow", "/stepwise/runs", body({ workflow: "" }), 400, "INVALID_BODY"],
      [
        "args not an array",
        "/stepwise/runs",
        body({ workflow: "greeter", args: "ada" }),
        400,
        "INVALID_BODY",
      ],
      [
        "unknown field",
        "/stepwise/runs",
        body({ workflow: "greeter", args: [], extra: 1 }),
        400,
        "INVALID_BODY",
      ],
      [
        "proto field",
        "/stepwise/runs",
        post('{"workflow":"greeter","__proto__":{"x":1}}', json),
        400,
        "INVALID_BODY",
      ],
      ["no payload", "/stepwise/hooks/tok-bad-input", body({}), 400, "INVALID_BODY"],
      [
        "unknown workflow",
        "/stepwise/runs",
        body({ workflow: "../greeter" }),
        404,
        "WORKFLOW_NOT_REGISTERED",
      ],
    ]);
    const response = await call(served.origin, "/stepwise/runs", {
      method: "POST",
      json: { workflow: 7, args: "x" },
    });
    const error = (await response.json()) as { error: { message: string; issues: { path: unknown[] }[] } };
    expect(error.error.message).toContain("workflow: expected a string");
    expect(error.error.issues.map((issue) => issue.path)).toEqual([["workflow"], ["args"]]);
  });
});

describe("paths, tokens and methods", () => {
  it("refuses forged tokens, escaping paths, unknown routes and wrong methods", async () => {
    const hook: CallOptions = { method: "POST", json: { payload: 1 } };
    await refuses([
      ["forged token", "/stepwise/hooks/forged", hook, 404, "HOOK_NOT_FOUND"],
      ["NUL in token", "/stepwise/hooks/tok%00", hook, 400, "INVALID_PATH"],
      ["bad escape", "/stepwise/hooks/tok%zz", hook, 400, "INVALID_PATH"],
      ["long token", `/stepwise/hooks/${"t".repeat(2000)}`, hook, 400, "INVALID_PATH"],
      ["run id traversal", "/stepwise/runs/..%2F..%2Fetc", {}, 400, "INVALID_PATH"],
      ["run id NUL", "/stepwise/runs/RUN%00", {}, 400, "INVALID_PATH"],
      ["dot run id", "/stepwise/runs/%2e%2e%2e", {}, 404, "RUN_NOT_FOUND"],
      ["unknown run", "/stepwise/runs/wrun_01ZZZZ/result", {}, 404, "RUN_NOT_FOUND"],
      ["literal traversal", "/stepwise/runs/RUN/../../../etc/passwd", {}, 404, "ROUTE_NOT_FOUND"],
      ["outside the base", "/elsewhere", {}, 404, "ROUTE_NOT_FOUND"],
      ["unknown route", "/stepwise/runs/RUN/explode", { method: "POST" }, 404, "ROUTE_NOT_FOUND"],
      ["double slash", "/stepwise//runs", {}, 404, "ROUTE_NOT_FOUND"],
      ["wrong method", "/stepwise/runs/RUN", { method: "DELETE" }, 405, "METHOD_NOT_ALLOWED"],
      ["GET on a POST route", "/stepwise/hooks/tok-bad-input", {}, 405, "METHOD_NOT_ALLOWED"],
      [
        "PUT /runs",
        "/stepwise/runs",
        { method: "PUT", json: { workflow: "greeter" } },
        405,
        "METHOD_NOT_ALLOWED",
      ],
      [
        "stream index past the end",
        "/stepwise/runs/RUN/streams/default?startIndex=1",
        {},
        416,
        "STREAM_RANGE",
      ],
    ]);
    const response = await call(served.origin, "/stepwise/runs", { method: "DELETE" });
    expect(response.headers.get("allow")).toBe("POST, GET");
  });
});
