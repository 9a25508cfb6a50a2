/**
 * Step logs in-process (the memory World): what a step attempt prints is captured per attempt,
 * even with steps running at once, stored with the attempt's outcome, bounded, and still printed;
 * what the workflow body prints is stored once, with the append that follows it. The same through
 * a real worker process on SQLite, encrypted, and across a kill -9: test/e2e/step-logs.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { configure, shutdown, start } from "../../src/api/index.ts";
import { readRunLogs } from "../../src/ops/logs.ts";
import { PayloadView } from "../../src/ops/payload-view.ts";
import { MAX_LOG_BYTES, MAX_LOG_LINES } from "../../src/runtime/log-buffer.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

let world: World;
beforeEach(() => {
  world = createMemoryWorld();
  configure({ world, worker: { holdMs: 5_000 } });
});
afterEach(async () => {
  await shutdown();
});

const tries = new Map<string, number>();

const wf = defineWorkflows("test/step-logs.ts", {
  steps: {
    talk: async (name: string) => {
      console.log("hello", name, { n: 1, nested: { deep: [1, 2] } });
      console.error("a problem:", new Map([["k", 2]]));
      console.warn("careful");
      return name;
    },
    // Prints between awaits, so that steps running at once interleave their lines.
    chatty: async (name: string, lines: number) => {
      for (let i = 0; i < lines; i++) {
        console.log(`${name} line ${i}`);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      return name;
    },
    flaky: Object.assign(
      async (key: string) => {
        const attempt = (tries.get(key) ?? 0) + 1;
        tries.set(key, attempt);
        console.log(`attempt ${attempt} of ${key}`);
        if (attempt < 3) throw new Error(`failure ${attempt}`);
        return attempt;
      },
      { retries: { delay: "5ms", backoff: "constant" as const } },
    ),
    flood: async (lines: number, width: number) => {
      for (let i = 0; i < lines; i++) console.log(`${i}:${"x".repeat(width)}`);
      return lines;
    },
    endless: async () => {
      // 200 KB without a newline, in pieces: kept up to the bound, never held whole.
      for (let i = 0; i < 200; i++) process.stdout.write("y".repeat(1024));
      return 1;
    },
    direct: async () => {
      process.stdout.write("partial ");
      process.stdout.write("line\nsecond line\n");
      process.stderr.write("to stderr\n");
      return 1;
    },
    silent: async () => 1,
  },
  workflows: {
    talking: ({ steps }) =>
      async function talking() {
        console.log("workflow begins");
        const name = await steps.talk("ada");
        console.info("workflow got", name);
        return name;
      },
    concurrent: ({ steps }) =>
      async function concurrent(n: number) {
        return Promise.all(Array.from({ length: n }, (_, i) => steps.chatty(`s${i}`, 5)));
      },
    retried: ({ steps }) =>
      async function retried(key: string) {
        return steps.flaky(key);
      },
    flooding: ({ steps }) =>
      async function flooding(lines: number, width: number) {
        return steps.flood(lines, width);
      },
    direct: ({ steps }) =>
      async function direct() {
        return steps.direct();
      },
    endless: ({ steps }) =>
      async function endless() {
        return steps.endless();
      },
    silent: ({ steps }) =>
      async function silent() {
        await steps.silent();
        return steps.silent();
      },
  },
});

async function logsOf(runId: string) {
  const run = await world.runs.get(runId);
  const page = await readRunLogs(world, new PayloadView(createPayloadCodec(), {}), run, { limit: 10_000 });
  return page.entries;
}

describe("step logs", () => {
  it("stores what a step prints with its outcome, formatted as console prints it", async () => {
    const run = await start(wf.talking, []);
    expect(await run.returnValue).toBe("ada");
    const entries = await logsOf(run.runId);
    const step = entries.filter((entry) => entry.stepId !== null);
    expect(step.map((entry) => [entry.level, entry.text])).toEqual([
      ["log", "hello ada { n: 1, nested: { deep: [ 1, 2 ] } }"],
      ["error", "a problem: Map(1) { 'k' => 2 }"],
      ["warn", "careful"],
    ]);
    expect(
      step.every((entry) => entry.stepName === "step//test/step-logs.ts//talk" && entry.attempt === 1),
    ).toBe(true);
    const completed = (await world.events.list(run.runId)).find((event) => event.type === "step_completed");
    expect(completed?.data).toMatchObject({ logs: { lines: 3 } });
  });

  it("stores the workflow body's output once, the first line included (it was dropped before)", async () => {
    const run = await start(wf.talking, []);
    await run.returnValue;
    const workflow = (await logsOf(run.runId)).filter((entry) => entry.stepId === null);
    expect(workflow.map((entry) => [entry.level, entry.text])).toEqual([
      ["log", "workflow begins"],
      ["info", "workflow got ada"],
    ]);
  });

  it("prints the workflow body's first line once (a fresh run's start was taken for a replay)", async () => {
    const printed: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      printed.push(String(args[0]));
    });
    try {
      const run = await start(wf.talking, []);
      await run.returnValue;
    } finally {
      spy.mockRestore();
    }
    expect(printed.filter((line) => line === "workflow begins")).toEqual(["workflow begins"]);
  });

  it("gives each of many concurrent steps its own lines", async () => {
    const run = await start(wf.concurrent, [8]);
    await run.returnValue;
    const entries = await logsOf(run.runId);
    const steps = await world.steps.list(run.runId);
    expect(steps).toHaveLength(8);
    for (const step of steps) {
      const mine = entries.filter((entry) => entry.stepId === step.stepId).map((entry) => entry.text);
      const name = (mine[0] ?? "").split(" ")[0];
      expect(mine).toEqual(Array.from({ length: 5 }, (_, i) => `${name} line ${i}`));
    }
    expect(new Set(entries.map((entry) => (entry.text ?? "").split(" ")[0])).size).toBe(8);
  });

  it("keeps each attempt of a retried step apart", async () => {
    const run = await start(wf.retried, [`k${Date.now()}`]);
    expect(await run.returnValue).toBe(3);
    const entries = (await logsOf(run.runId)).filter((entry) => entry.stepId !== null);
    expect(entries.map((entry) => [entry.attempt, entry.text?.split(" of ")[0]])).toEqual([
      [1, "attempt 1"],
      [2, "attempt 2"],
      [3, "attempt 3"],
    ]);
    const types = (await world.events.list(run.runId))
      .filter((event) => "logs" in event.data)
      .map((event) => event.type);
    expect(types).toEqual(["step_retrying", "step_retrying", "step_completed"]);
  });

  it("keeps 1,000 lines per attempt and says how much was left out", async () => {
    const run = await start(wf.flooding, [MAX_LOG_LINES + 250, 10]);
    await run.returnValue;
    const entries = await logsOf(run.runId);
    expect(entries).toHaveLength(MAX_LOG_LINES + 1);
    expect(entries.at(-2)?.text).toBe(`${MAX_LOG_LINES - 1}:${"x".repeat(10)}`);
    expect(entries.at(-1)?.level).toBe("truncated");
    expect(entries.at(-1)?.text).toContain("250 more lines");
    const event = (await world.events.list(run.runId)).find((e) => e.type === "step_completed");
    expect(event?.data).toMatchObject({ logs: { lines: MAX_LOG_LINES, truncated: true } });
  });

  it("keeps 64 KB of text per attempt, cutting the line that crosses it", async () => {
    const run = await start(wf.flooding, [100, 1000]);
    await run.returnValue;
    const entries = (await logsOf(run.runId)).filter((entry) => entry.level !== "truncated");
    const bytes = entries.reduce((total, entry) => total + Buffer.byteLength(entry.text ?? ""), 0);
    expect(bytes).toBe(MAX_LOG_BYTES);
    expect(entries.length).toBeLessThan(100);
  });

  it("captures direct writes to stdout and stderr as lines", async () => {
    const run = await start(wf.direct, []);
    await run.returnValue;
    const entries = await logsOf(run.runId);
    expect(entries.map((entry) => [entry.level, entry.text])).toEqual([
      ["stdout", "partial line"],
      ["stdout", "second line"],
      ["stderr", "to stderr"],
    ]);
  });

  it("keeps 64 KB of a direct write that never ends its line", async () => {
    const run = await start(wf.endless, []);
    await run.returnValue;
    const entries = await logsOf(run.runId);
    expect(entries[0]?.text).toBe("y".repeat(MAX_LOG_BYTES));
    expect(entries.at(-1)?.level).toBe("truncated");
  });

  it("adds nothing to the log of a run that prints nothing", async () => {
    const run = await start(wf.silent, []);
    await run.returnValue;
    for (const event of await world.events.list(run.runId)) {
      expect(event.data).not.toHaveProperty("logs");
      expect(event.data).not.toHaveProperty("workflowLogs");
    }
  });
});
