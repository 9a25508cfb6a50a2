import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getRun, shutdown, start } from "../../src/api/index.ts";
import { FatalError } from "../../src/errors/user.ts";
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

const calls: string[] = [];

const wf = defineWorkflows("test/basics.ts", {
  steps: {
    add: async (a: number, b: number) => {
      calls.push(`add ${a} ${b}`);
      return a + b;
    },
    fatal: async () => {
      throw new FatalError("no way");
    },
  },
  workflows: {
    sum: ({ steps }) =>
      async function sum(a: number, b: number) {
        const x = await steps.add(a, b);
        const y = await steps.add(x, 10);
        return { total: y };
      },
    fanout: ({ steps }) =>
      async function fanout(n: number) {
        const results = await Promise.all(Array.from({ length: n }, (_, i) => steps.add(i, i)));
        return results.reduce((a, b) => a + b, 0);
      },
    catches: ({ steps }) =>
      async function catches() {
        try {
          await steps.fatal();
          return "not reached";
        } catch (error) {
          return `caught ${(error as Error).name}: ${(error as Error).message}`;
        }
      },
  },
});

describe("runs on the memory World", () => {
  it("runs sequential steps and returns the result", async () => {
    const run = await start(wf.sum, [1, 2]);
    expect(await run.returnValue).toEqual({ total: 13 });
    expect(await run.status).toBe("completed");
    const events = await world.events.list(run.runId);
    expect(events.map((e) => e.type)).toEqual([
      "run_created",
      "run_started",
      "step_started",
      "step_completed",
      "step_started",
      "step_completed",
      "run_completed",
    ]);
    const steps = await world.steps.list(run.runId);
    expect(steps.map((s) => [s.stepName, s.status, s.attempt])).toEqual([
      ["step//test/basics.ts//add", "completed", 1],
      ["step//test/basics.ts//add", "completed", 1],
    ]);
    expect(await getRun(run.runId).workflowName).toBe("workflow//test/basics.ts//sum");
  });

  it("runs Promise.all fan-out", async () => {
    const run = await start(wf.fanout, [50]);
    expect(await run.returnValue).toBe(2 * ((49 * 50) / 2));
  });

  it("lets the workflow catch a FatalError", async () => {
    const run = await start(wf.catches, []);
    expect(await run.returnValue).toBe("caught FatalError: no way");
    const steps = await world.steps.list(run.runId);
    expect(steps[0]?.status).toBe("failed");
    expect(steps[0]?.attempt).toBe(1);
  });

  it("starts a workflow without parameters with start(wf), no arguments array", async () => {
    const run = await start(wf.catches);
    expect(await run.returnValue).toBe("caught FatalError: no way");
  });
});
