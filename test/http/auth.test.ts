/**
 * The API secret: every route but webhook URLs needs `Authorization: Bearer <secret>`. Without it
 * (or with a wrong one) the answer is a 401 that reveals nothing, not even whether the route or
 * the run exists; a handler with no usable secret refuses with a 503 that says what to set.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { configure, shutdown, start } from "../../src/api/index.ts";
import { toNodeListener } from "../../src/http/adapters/node.ts";
import { createHandler, SECRET_ENV } from "../../src/http/index.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { call, errorOf, SECRET, type Served, serve, snapshotWorld, until } from "./helpers.ts";
import { wf } from "./workflows.ts";

let world: World;
let served: Served;
const base = "/stepwise";

beforeAll(async () => {
  served = await serve(toNodeListener(createHandler({ secret: SECRET })));
});
afterAll(() => served.close());
beforeEach(() => {
  world = createMemoryWorld();
  configure({ world, worker: { holdMs: 0 } });
});
afterEach(() => shutdown());

const guarded: [string, string, unknown?][] = [
  ["GET", "/health"],
  ["POST", "/runs", { workflow: "greeter", args: ["x"] }],
  ["GET", "/runs/RUN"],
  ["POST", "/runs/RUN/cancel"],
  ["POST", "/runs/RUN/pause"],
  ["POST", "/runs/RUN/resume"],
  ["POST", "/runs/RUN/events", { type: "forged", payload: 1 }],
  ["GET", "/runs/RUN/result?wait=0"],
  ["GET", "/runs/RUN/streams/default"],
  ["POST", "/hooks/tok-auth", { payload: "forged" }],
  ["GET", "/no/such/route"],
  ["DELETE", "/runs"],
];

const wrongAuth: [string, Record<string, string>][] = [
  ["no header", {}],
  ["a wrong secret", { authorization: "Bearer not-the-secret-0123456789abcdef0123" }],
  ["the secret with a suffix", { authorization: `Bearer ${SECRET}x` }],
  ["a prefix of the secret", { authorization: `Bearer ${SECRET.slice(0, -1)}` }],
  ["another scheme", { authorization: `Basic ${Buffer.from(`user:${SECRET}`).toString("base64")}` }],
  ["the bare secret", { authorization: SECRET }],
  ["an empty bearer", { authorization: "Bearer " }],
  ["the secret in another header", { "x-api-key": SECRET }],
];

describe("without the right secret", () => {
  it("answers 401 on every guarded route, leaks nothing, and changes nothing", async () => {
    const run = await start(wf.approval, ["tok-auth"]);
    await until(
      () => world.hooks.list({ runId: run.runId }),
      (hooks) => hooks.length === 1,
    );
    const before = await snapshotWorld(world);
    let checked = 0;
    for (const [method, path, json] of guarded) {
      for (const [, headers] of wrongAuth) {
        const response = await call(served.origin, `${base}${path.replace("RUN", run.runId)}`, {
          method,
          json,
          headers,
          auth: false,
        });
        expect(response.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(response.headers.get("www-authenticate")).toBe('Bearer realm="stepwise"');
        const text = await response.text();
        expect(text).not.toContain(run.runId);
        expect(text).not.toContain("greeter");
        expect(text).not.toContain("approval");
        expect(JSON.parse(text).error.code).toBe("UNAUTHORIZED");
        checked += 1;
      }
    }
    expect(checked).toBe(guarded.length * wrongAuth.length);
    expect(await snapshotWorld(world)).toBe(before);
    expect((await world.runs.get(run.runId)).status).toBe("running");
  });

  it("accepts the scheme in any case", async () => {
    const response = await call(served.origin, `${base}/health`, {
      auth: false,
      headers: { authorization: `bearer ${SECRET}` },
    });
    expect(response.status).toBe(200);
  });
});

describe("a handler without a usable secret", () => {
  it("answers 503 naming the variable to set, on every route, and never serves them", async () => {
    for (const secret of ["", "short-secret"]) {
      const handler = createHandler({ secret });
      for (const [method, path, json] of guarded) {
        for (const auth of [false, secret] as const) {
          const init: RequestInit = {
            method,
            headers: auth === false ? {} : { authorization: `Bearer ${auth}` },
          };
          if (json !== undefined) {
            init.body = JSON.stringify(json);
            init.headers = { ...init.headers, "content-type": "application/json" };
          }
          const response = await handler(new Request(`http://x${base}${path}`, init));
          expect(response.status).toBe(503);
          const error = await errorOf(response);
          expect(error.code).toBe("HTTP_SECRET_NOT_SET");
          expect(error.message).toContain(SECRET_ENV);
        }
      }
    }
    expect((await world.runs.list()).items).toHaveLength(0);
  });

  it("reads the secret from STEPWISE_HTTP_SECRET by default", async () => {
    const saved = process.env[SECRET_ENV];
    try {
      delete process.env[SECRET_ENV];
      expect((await createHandler()(new Request(`http://x${base}/health`))).status).toBe(503);
      process.env[SECRET_ENV] = SECRET;
      const handler = createHandler();
      expect((await handler(new Request(`http://x${base}/health`))).status).toBe(401);
      const ok = await handler(
        new Request(`http://x${base}/health`, { headers: { authorization: `Bearer ${SECRET}` } }),
      );
      expect(ok.status).toBe(200);
    } finally {
      if (saved === undefined) delete process.env[SECRET_ENV];
      else process.env[SECRET_ENV] = saved;
    }
  });
});
