/**
 * When the server side fails rather than the client: a World that does not answer makes the
 * health check say so (503); an unexpected error is a 500 that names an error id and nothing
 * else (the error goes to `onError`); a stream whose storage fails midway ends with an error line;
 * and a long-poll or stream tail whose client leaves stops listening to the World.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { configure, shutdown, start } from "../../src/api/index.ts";
import { createHandler, toNodeListener } from "../../src/http/index.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { call, errorOf, SECRET, type Served, serve, until } from "./helpers.ts";
import { wf } from "./workflows.ts";

/** Switches that make the World fail on purpose. */
const faults = { list: false, get: false, readAfter: -1 };
let subscriptions = 0;
let world: World;
let served: Served;
const reported: { error: unknown; errorId: string }[] = [];

beforeAll(async () => {
  const handler = createHandler({
    secret: SECRET,
    onError: (error, { errorId }) => reported.push({ error, errorId }),
  });
  served = await serve(toNodeListener(handler));
});
afterAll(() => served.close());
beforeEach(() => {
  const inner = createMemoryWorld();
  world = {
    ...inner,
    runs: {
      ...inner.runs,
      list: (filter) => (faults.list ? new Promise(() => {}) : inner.runs.list(filter)),
      get: (runId) =>
        faults.get ? Promise.reject(new Error("disk on fire: /var/secret/path")) : inner.runs.get(runId),
    },
    streams: {
      ...inner.streams,
      read: (runId, name, options) =>
        faults.readAfter >= 0 && (options?.from ?? 0) >= faults.readAfter
          ? Promise.reject(new Error("stream storage failed"))
          : inner.streams.read(runId, name, options),
    },
    subscribe(listener) {
      subscriptions += 1;
      const off = inner.subscribe(listener);
      let done = false;
      return () => {
        if (!done) subscriptions -= 1;
        done = true;
        off();
      };
    },
  };
  configure({ world, worker: { holdMs: 0 } });
});
afterEach(async () => {
  faults.list = false;
  faults.get = false;
  faults.readAfter = -1;
  await shutdown();
});

describe("server-side failures", () => {
  it("health answers 503 when the World does not answer in time", { timeout: 15_000 }, async () => {
    faults.list = true;
    const response = await call(served.origin, "/stepwise/health");
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ ok: false, world: { reachable: false } });
  });

  it("an unexpected error is a 500 with an error id, reported to onError, revealing nothing", async () => {
    faults.get = true;
    const response = await call(served.origin, "/stepwise/runs/wrun_X");
    expect(response.status).toBe(500);
    const error = await errorOf(response);
    expect(error.code).toBe("INTERNAL");
    expect(error.message).not.toContain("disk on fire");
    expect(error.message).not.toContain("/var/secret");
    expect(reported).toHaveLength(1);
    expect(error.message).toContain(reported[0]?.errorId);
    expect(String(reported[0]?.error)).toContain("disk on fire");
  });

  it("a stream whose storage fails midway ends with an error line", async () => {
    const run = await start(wf.producer, ["fail-stream", 4, []]);
    await run.returnValue;
    // The first read (chunks 0..3) works; the next one, past them, fails.
    faults.readAfter = 1;
    const response = await call(served.origin, `/stepwise/runs/${run.runId}/streams/default`);
    expect(response.status).toBe(200);
    const lines = (await response.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.slice(0, 4).map((line) => line.index)).toEqual([0, 1, 2, 3]);
    expect(lines).toHaveLength(5);
    expect(lines[4]).toMatchObject({ error: { code: "STREAM_FAILED" } });
    expect(JSON.stringify(lines[4])).toContain("Reconnect with startIndex");
  });
});

describe("clients that leave", () => {
  it("a long-poll stops listening to the World when its client disconnects", async () => {
    const run = await start(wf.sleeper, ["1h"]);
    await until(
      () => world.waits.list({ runId: run.runId }),
      (waits) => waits.length === 1,
    );
    const baseline = subscriptions;
    const controller = new AbortController();
    const polling = call(served.origin, `/stepwise/runs/${run.runId}/result?wait=30000`, {
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await until(
      async () => subscriptions,
      (n) => n > baseline,
    );
    controller.abort();
    await polling;
    await until(
      async () => subscriptions,
      (n) => n <= baseline,
    );
  });
});
