import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getRun, shutdown, start } from "../../src/api/index.ts";
import { NonDeterminismError, WorkflowRunFailedError } from "../../src/errors/runtime.ts";
import { getWorkflowBundle, registerWorkflowBundle } from "../../src/runtime/registry.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { startUnpinned } from "../helpers/unpinned.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error("condition not reached");
}

let world: World;
beforeEach(() => {
  world = createMemoryWorld();
  // No sandbox cache and no holding: every wake-up replays the log from the start.
  configure({ world, worker: { holdMs: 0, maxCachedRuns: 0 } });
});
afterEach(async () => {
  await shutdown();
});

const executions: string[] = [];

const wf = defineWorkflows("test/replay.ts", {
  steps: {
    record: async (label: string, value: unknown) => {
      executions.push(label);
      return value;
    },
  },
  workflows: {
    randomness: ({ api, steps }) =>
      async function randomness() {
        const a = Math.random();
        const t0 = Date.now();
        const uuid = crypto.randomUUID();
        await steps.record("r1", a);
        await api.sleep(20);
        const b = Math.random();
        const t1 = Date.now();
        await steps.record("r2", b);
        await api.sleep(20);
        return { a, b, t0, t1, uuid, again: [Math.random(), crypto.randomUUID()] };
      },
    changing: ({ api, steps }) =>
      async function changing() {
        await steps.record("c1", 1);
        await api.sleep(30);
        await steps.record("c2", 2);
        return "done";
      },
    moduleState: ({ steps }) => {
      // Module-level state: every run must get its own copy.
      let counter = 0;
      return async function moduleState(label: string) {
        counter += 1;
        const first = Math.random();
        await steps.record(label, first);
        counter += 1;
        return { counter, first, second: Math.random() };
      };
    },
    leaky: ({ steps }) =>
      async function leaky(value: number) {
        const shared = globalThis as Record<string, unknown>;
        const before = shared.leakedState;
        shared.leakedState = value;
        await steps.record(`leak${value}`, value);
        return { before, after: shared.leakedState };
      },
    forbidden: () =>
      async function forbidden() {
        try {
          setTimeout(() => {}, 10);
          return "allowed";
        } catch (error) {
          return `${(error as Error).name}: ${(error as Error).message}`;
        }
      },
  },
});

describe("replay", () => {
  it("replays Math.random, crypto and Date identically, and never re-executes completed steps", async () => {
    const run = await start(wf.randomness, []);
    const result = (await run.returnValue) as {
      a: number;
      b: number;
      t0: number;
      t1: number;
      uuid: string;
      again: unknown[];
    };
    const events = await world.events.list(run.runId);
    const recorded = events.filter((e) => e.type === "step_started").length;
    expect(recorded).toBe(2);
    // Each step ran once even though the run was replayed from its log after each sleep.
    expect(executions.filter((label) => label === "r1")).toHaveLength(1);
    expect(executions.filter((label) => label === "r2")).toHaveLength(1);
    expect(result.t0).toBe((await run.createdAt).getTime());
    expect(result.t1).toBeGreaterThanOrEqual(result.t0 + 20);
    expect(result.a).not.toBe(result.b);
    expect(result.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The step outputs recorded the values seen before the sleeps; the final result, computed
    // after two replays, agrees with them.
    const completed = events.filter((e) => e.type === "step_completed");
    expect(completed).toHaveLength(2);
  });

  /**
   * Version 2 of `changing`: by default calls another step where version 1 called `record`;
   * `firstCall` replaces that first call (`record` and `other` are in scope).
   */
  const changeCode = (firstCall = "other(1)") =>
    registerWorkflowBundle({
      filename: "changed.js",
      workflowIds: [wf.changing.workflowId],
      code: `(() => {
        const r = globalThis[Symbol.for("stepwise.sandbox")].registrar;
        const other = r.step("step//test/replay.ts//somethingElse");
        const record = r.step("step//test/replay.ts//record");
        r.registerWorkflow(${JSON.stringify(wf.changing.workflowId)}, async function changing() {
          await ${firstCall};
          await r.api.sleep(30);
          return "changed";
        });
      })();`,
    });
  /** Puts version 1 back for the tests after (re-registering the bundle it came in). */
  const original = getWorkflowBundle(wf.changing.workflowId);
  const restoreCode = () => {
    if (original === undefined) throw new Error("the changing workflow is not registered");
    registerWorkflowBundle({
      code: original.code,
      filename: original.filename,
      workflowIds: original.workflowIds,
    });
  };

  it("keeps a run on the code it started with when the workflow's code changes under it", async () => {
    const run = await start(wf.changing, []);
    await until(async () => (await world.waits.list({ runId: run.runId })).length > 0);
    changeCode();
    try {
      // Replayed with its own version after the sleep: no divergence, version 1's steps.
      expect(await run.returnValue).toBe("done");
      expect((await world.events.list(run.runId)).some((event) => event.type === "run_failed")).toBe(false);
    } finally {
      restoreCode();
    }
  });

  it("fails a run older than pinning loudly when the code changes under it", async () => {
    const runId = await startUnpinned(wf.changing.workflowId);
    await until(async () => (await world.waits.list({ runId })).length > 0);
    changeCode();
    try {
      const failure = await getRun(runId).returnValue.catch((error: unknown) => error);
      expect(WorkflowRunFailedError.is(failure)).toBe(true);
      const cause = (failure as Error).cause;
      expect(NonDeterminismError.is(cause)).toBe(true);
      expect((cause as Error).message).toContain('step "step//test/replay.ts//record"');
      expect((cause as Error).message).toContain('step "step//test/replay.ts//somethingElse"');
      const last = (await world.events.list(runId)).at(-1);
      expect(last?.type).toBe("run_failed");
    } finally {
      restoreCode();
    }
  });

  it("fails a replay that calls the same step with other arguments, naming both", async () => {
    const runId = await startUnpinned(wf.changing.workflowId);
    await until(async () => (await world.waits.list({ runId })).length > 0);
    changeCode(`record("c1", { amount: 99 })`);
    try {
      const failure = await getRun(runId).returnValue.catch((error: unknown) => error);
      const cause = (failure as Error).cause;
      expect(NonDeterminismError.is(cause)).toBe(true);
      const message = (cause as Error).message;
      expect(message).toContain('step "step//test/replay.ts//record" with other arguments');
      expect(message).toContain("the log has [ 'c1', 1 ]");
      expect(message).toContain("the workflow now passes [ 'c1', { amount: 99 } ]");
      expect((await world.events.list(runId)).at(-1)?.type).toBe("run_failed");
    } finally {
      restoreCode();
    }
  });

  it("replays a step called with the same arguments, however the code around it changed", async () => {
    const runId = await startUnpinned(wf.changing.workflowId);
    await until(async () => (await world.waits.list({ runId })).length > 0);
    changeCode(`record("c" + String(1), 1)`);
    try {
      expect(await getRun(runId).returnValue).toBe("changed");
    } finally {
      restoreCode();
    }
  });

  it("gives each of many concurrent runs its own module state and its own random sequence", async () => {
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => start(wf.moduleState, [`m${i}`])));
    const results = (await Promise.all(runs.map((run) => run.returnValue))) as {
      counter: number;
      first: number;
      second: number;
    }[];
    for (const result of results) expect(result.counter).toBe(2);
    expect(new Set(results.map((r) => r.first)).size).toBe(20);
    // Each run's first random number is the value its step recorded before any interleaving.
    for (const [i, run] of runs.entries()) {
      const completed = (await world.events.list(run.runId)).find((e) => e.type === "step_completed");
      expect(completed).toBeDefined();
      expect(results[i]?.first).not.toBe(results[i]?.second);
    }
  });

  it("keeps what a run sets on globalThis to that run", async () => {
    const runs = await Promise.all([start(wf.leaky, [1]), start(wf.leaky, [2])]);
    expect(await Promise.all(runs.map((run) => run.returnValue))).toEqual([
      { before: undefined, after: 1 },
      { before: undefined, after: 2 },
    ]);
  });

  it("refuses timers in workflow code with the durable alternative", async () => {
    const run = await start(wf.forbidden, []);
    const message = (await run.returnValue) as string;
    expect(message).toMatch(/^SandboxViolationError: setTimeout\(\) is not available in workflow code/);
    expect(message).toContain("sleep(");
  });
});
