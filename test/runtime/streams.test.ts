import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getRun, shutdown, start } from "../../src/api/index.ts";
import { InvalidStreamNameError, StreamRangeError } from "../../src/errors/runtime.ts";
import { getWritable } from "../../src/index.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

let world: World;
beforeEach(() => {
  world = createMemoryWorld();
  configure({ world });
});
afterEach(async () => {
  await shutdown();
});

const gates = new Map<string, () => void>();
const gate = (key: string) => new Promise<void>((resolve) => gates.set(key, resolve));
async function open(key: string): Promise<void> {
  for (let i = 0; i < 400 && !gates.has(key); i++) await new Promise((r) => setTimeout(r, 5));
  gates.get(key)?.();
}

const wf = defineWorkflows("test/streams.ts", {
  steps: {
    produce: async (key: string, count: number) => {
      const writer = getWritable().getWriter();
      for (let i = 0; i < count; i++) {
        if (i === 2) await gate(`${key}:half`);
        await writer.write(
          i % 3 === 0 ? `text ${i}` : i % 3 === 1 ? { n: i, at: new Date(0) } : new Uint8Array([i, 255]),
        );
      }
      await writer.close();
      return count;
    },
    named: async () => {
      const writer = getWritable({ namespace: "logs" }).getWriter();
      await writer.write("to logs");
      writer.releaseLock();
      return "ok";
    },
    fill: async (writable: WritableStream<unknown>, count: number) => {
      const writer = writable.getWriter();
      for (let i = 0; i < count; i++) await writer.write({ fromStep: i });
      await writer.close();
      return count;
    },
    badName: async () => {
      try {
        getWritable({ namespace: "../escape" });
        return "allowed";
      } catch (error) {
        return InvalidStreamNameError.is(error) ? "refused" : String(error);
      }
    },
  },
  workflows: {
    producer: ({ steps }) =>
      async function producer(key: string, count: number) {
        return await steps.produce(key, count);
      },
    fromWorkflow: ({ steps, api }) =>
      async function fromWorkflow() {
        const writer = api.getWritable().getWriter();
        await writer.write("first, from workflow code");
        await api.sleep(30);
        await writer.write(new Uint8Array([1, 2, 3]));
        writer.releaseLock();
        // A handle passed to a step writes straight to the run's stream from there.
        await steps.fill(api.getWritable({ namespace: "progress" }), 3);
        return "done";
      },
    logger: ({ steps }) =>
      async function logger() {
        await steps.named();
        return await steps.badName();
      },
  },
});

async function readAll(stream: ReadableStream<unknown>, max = Number.POSITIVE_INFINITY): Promise<unknown[]> {
  const reader = stream.getReader();
  const out: unknown[] = [];
  while (out.length < max) {
    const { done, value } = await reader.read();
    if (done) break;
    out.push(value);
  }
  await reader.cancel();
  return out;
}

const expected = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, k) => {
    const i = from + k;
    return i % 3 === 0 ? `text ${i}` : i % 3 === 1 ? { n: i, at: new Date(0) } : new Uint8Array([i, 255]);
  });

describe("durable streams", () => {
  it("writes from workflow code once each, even across replays, and hands streams to steps", async () => {
    configure({ world, worker: { holdMs: 0, maxCachedRuns: 0 } });
    const run = await start(wf.fromWorkflow, []);
    expect(await run.returnValue).toBe("done");
    expect(await readAll(run.readable)).toEqual(["first, from workflow code", new Uint8Array([1, 2, 3])]);
    expect(await readAll(run.getReadable({ namespace: "progress" }))).toEqual([
      { fromStep: 0 },
      { fromStep: 1 },
      { fromStep: 2 },
    ]);
    const steps = await world.steps.list(run.runId);
    expect(steps.filter((s) => s.stepName === "step//stepwise//stream-write")).toHaveLength(2);
  });

  it("reads text, object and binary chunks live, and ends when the stream closes", async () => {
    const run = await start(wf.producer, ["a", 6]);
    const reading = readAll(run.readable);
    await open("a:half");
    expect(await reading).toEqual(expected(0, 6));
    expect(await run.returnValue).toBe(6);
  });

  it("lets a client that disconnected resume from the next index, with several readers at once", async () => {
    const run = await start(wf.producer, ["b", 9]);
    const first = await readAll(run.getReadable(), 2);
    expect(first).toEqual(expected(0, 2));
    const other = readAll(getRun(run.runId).readable);
    await open("b:half");
    const rest = await readAll(run.getReadable({ startIndex: 2 }));
    expect(rest).toEqual(expected(2, 9));
    expect(await other).toEqual(expected(0, 9));
  });

  it("keeps what was written when nobody reads, and reads from the tail with a negative index", async () => {
    const run = await start(wf.producer, ["c", 5]);
    await open("c:half");
    await run.returnValue;
    expect(await readAll(run.getReadable({ startIndex: -2 }))).toEqual(expected(3, 5));
    expect(await readAll(run.getReadable({ startIndex: 5 }))).toEqual([]);
    const past = await readAll(run.getReadable({ startIndex: 6 })).catch((e: unknown) => e);
    expect(StreamRangeError.is(past)).toBe(true);
    expect((past as Error).message).toMatch(/has 5 chunk\(s\); reading from index 6 is past its end/);
  });

  it("writes named streams and refuses names that try to escape", async () => {
    const run = await start(wf.logger, []);
    expect(await run.returnValue).toBe("refused");
    expect(await readAll(run.getReadable({ namespace: "logs" }))).toEqual(["to logs"]);
    expect(() => run.getReadable({ namespace: "../../etc/passwd" })).toThrow(InvalidStreamNameError);
    // The default stream was never written: reading it ends at once because the run has ended.
    expect(await readAll(run.readable)).toEqual([]);
  });
});
