/**
 * `GET /runs/:runId/streams/:name` over real HTTP: NDJSON lines with indexes (values as JSON,
 * bytes as base64), live tailing, reconnection from the next index while the run keeps writing
 * (every chunk exactly once), negative indexes, and the refusals: a start past the end (416),
 * names that try to escape (400), unknown runs (404). A client that goes away stops the reader.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { configure, shutdown, start } from "../../src/api/index.ts";
import { toNodeListener } from "../../src/http/adapters/node.ts";
import { createHandler } from "../../src/http/index.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { call, errorOf, SECRET, type Served, serve, snapshotWorld, until } from "./helpers.ts";
import { chunkAt, openGate, wf } from "./workflows.ts";

let world: World;
let subscriptions = 0;
let served: Served;

beforeAll(async () => {
  served = await serve(toNodeListener(createHandler({ secret: SECRET })));
});
afterAll(() => served.close());
beforeEach(() => {
  const inner = createMemoryWorld();
  // Counts live subscriptions, to see that a reader stops when its client leaves.
  world = {
    ...inner,
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
afterEach(() => shutdown());

type Line = { index: number; value?: unknown; base64?: string; error?: unknown };

/** The JSON form the route gives chunk i (see workflows.ts#chunkAt). */
function expectedLine(i: number): Line {
  const chunk = chunkAt(i);
  if (chunk instanceof Uint8Array) return { index: i, base64: Buffer.from(chunk).toString("base64") };
  if (typeof chunk === "string") return { index: i, value: chunk };
  return { index: i, value: { n: i, at: "1970-01-01T00:00:00.000Z" } };
}
const range = (from: number, to: number): Line[] =>
  Array.from({ length: to - from }, (_, k) => expectedLine(from + k));

/** Reads NDJSON lines from a response, at most `max`, then (if `max` was reached) disconnects. */
async function readLines(
  response: Response,
  controller?: AbortController,
  max = Number.POSITIVE_INFINITY,
): Promise<Line[]> {
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const lines: Line[] = [];
  let buffer = "";
  while (lines.length < max) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let newline = buffer.indexOf("\n");
    while (newline >= 0 && lines.length < max) {
      lines.push(JSON.parse(buffer.slice(0, newline)) as Line);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf("\n");
    }
  }
  if (lines.length >= max) controller?.abort();
  return lines;
}

function open(runId: string, query = "", name = "default", controller = new AbortController()) {
  return call(served.origin, `/stepwise/runs/${runId}/streams/${name}${query}`, {
    signal: controller.signal,
  });
}

describe("reading a stream", () => {
  it("gives every chunk of a finished run as NDJSON, values as JSON and bytes as base64", async () => {
    const run = await start(wf.producer, ["s1", 6, []]);
    await run.returnValue;
    expect(await readLines(await open(run.runId))).toEqual(range(0, 6));
    const tail = await open(run.runId, "?startIndex=-2");
    expect(tail.headers.get("x-stepwise-start-index")).toBe("4");
    expect(await readLines(tail)).toEqual(range(4, 6));
    expect(await readLines(await open(run.runId, "?startIndex=6"))).toEqual([]);
    expect(await readLines(await open(run.runId, "?startIndex=-100"))).toEqual(range(0, 6));
  });

  it("tails live, and a client that reconnects from the next index gets the rest exactly once", async () => {
    const run = await start(wf.producer, ["s2", 12, [3, 7]]);
    // First connection: read 2 chunks, then disconnect while the run is paused at index 3.
    const first = new AbortController();
    const got = await readLines(await open(run.runId, "", "default", first), first, 2);
    expect(got).toEqual(range(0, 2));
    // Second connection: from index 2; the run writes more (3..6) while we read, pauses, then finishes.
    const second = new AbortController();
    const response = await open(run.runId, `?startIndex=${(got.at(-1)?.index ?? -1) + 1}`, "default", second);
    const reading = readLines(response, second, 3);
    await openGate("s2:3");
    const middle = await reading;
    expect(middle).toEqual(range(2, 5));
    const third = await open(run.runId, `?startIndex=${(middle.at(-1)?.index ?? -1) + 1}`);
    const rest = readLines(third);
    await openGate("s2:7");
    const tail = await rest;
    expect(tail).toEqual(range(5, 12));
    const all = [...got, ...middle, ...tail].map((line) => line.index);
    expect(all).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(await run.returnValue).toBe(12);
  });

  it("stops the durable reader when the client disconnects", async () => {
    const run = await start(wf.producer, ["s3", 4, [1]]);
    await until(
      () => world.streams.list(run.runId),
      (streams) => streams[0]?.length === 1,
    );
    const baseline = subscriptions;
    const controller = new AbortController();
    const response = await open(run.runId, "?startIndex=1", "default", controller);
    expect(response.status).toBe(200);
    await until(
      async () => subscriptions,
      (n) => n > baseline,
    );
    controller.abort();
    await until(
      async () => subscriptions,
      (n) => n <= baseline,
    );
    await openGate("s3:1");
    expect(await run.returnValue).toBe(4);
  });
});

describe("refusals", () => {
  it("refuses a start past the end (416), naming the length", async () => {
    const run = await start(wf.producer, ["s4", 3, []]);
    await run.returnValue;
    const response = await open(run.runId, "?startIndex=4");
    expect(response.status).toBe(416);
    const error = await errorOf(response);
    expect(error.code).toBe("STREAM_RANGE");
    expect(error.message).toContain("has 3 chunk(s)");
  });

  it("refuses malformed indexes, escaping names and unknown runs, changing nothing", async () => {
    const run = await start(wf.producer, ["s5", 2, []]);
    await run.returnValue;
    const before = await snapshotWorld(world);
    for (const query of [
      "?startIndex=abc",
      "?startIndex=1.5",
      "?startIndex=1e3",
      "?startIndex=--1",
      "?startIndex=99999999999999999999",
    ]) {
      const response = await open(run.runId, query);
      expect(response.status, query).toBe(400);
      expect((await errorOf(response)).code).toBe("INVALID_QUERY");
    }
    const names = [
      "..%2F..%2Fetc%2Fpasswd",
      "%2e%2e%2fx",
      "a%00b",
      "a%5Cb",
      "..x",
      "x..y",
      "%2E%2E%2F",
      "-lead",
      "a%20b",
      "a".repeat(129),
      "%ff",
    ];
    for (const name of names) {
      const response = await open(run.runId, "", name);
      expect(response.status, name).toBe(400);
      expect(["INVALID_PATH", "INVALID_STREAM_NAME"]).toContain((await errorOf(response)).code);
    }
    const unknown = await open("wrun_UNKNOWN");
    expect(unknown.status).toBe(404);
    expect(await snapshotWorld(world)).toBe(before);
  });
});
