import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getRun, shutdown, start } from "../../src/api/index.ts";
import {
  SerializationError,
  WorkflowNotRegisteredError,
  WorkflowRunCancelledError,
} from "../../src/errors/runtime.ts";
import { RunNotFoundError } from "../../src/errors/world.ts";
import { getStepMetadata, getWorkflowMetadata } from "../../src/index.ts";
import { workflowReference } from "../../src/runtime/registry.ts";
import { SPEC_VERSION } from "../../src/runtime/version.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

let world: World;
beforeEach(() => {
  world = createMemoryWorld();
  configure({ world, worker: { holdMs: 0 } });
});
afterEach(async () => {
  await shutdown();
});

let release: (() => void) | undefined;
const wf = defineWorkflows("test/control.ts", {
  steps: {
    metadata: async () => ({ step: getStepMetadata(), workflow: getWorkflowMetadata() }),
    blocking: async () => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return "released";
    },
  },
  workflows: {
    meta: ({ steps, api }) =>
      async function meta() {
        const inner = await steps.metadata();
        return { inner, outer: api.getWorkflowMetadata() };
      },
    waitsForever: ({ api }) =>
      async function waitsForever() {
        await api.sleep("30 days");
        return "woke";
      },
    busy: ({ steps }) =>
      async function busy() {
        const value = await steps.blocking();
        return value;
      },
  },
});

describe("metadata", () => {
  it("gives steps their id and attempt, and workflows their run id and name", async () => {
    const run = await start(wf.meta, []);
    const result = (await run.returnValue) as {
      inner: {
        step: { stepId: string; attempt: number; stepName: string };
        workflow: { runId: string; workflowName: string };
      };
      outer: { runId: string; workflowName: string };
    };
    const [step] = await world.steps.list(run.runId);
    expect(result.inner.step.stepId).toBe(step?.stepId);
    expect(result.inner.step.stepId).toMatch(/^step_[0-9A-Z]{26}$/);
    expect(result.inner.step.attempt).toBe(1);
    expect(result.inner.workflow).toMatchObject({ runId: run.runId, workflowName: wf.meta.workflowId });
    expect(result.outer).toMatchObject({ runId: run.runId, workflowName: wf.meta.workflowId });
  });

  it("explains where getStepMetadata belongs when called elsewhere", () => {
    expect(() => getStepMetadata()).toThrow(/inside a step function/);
  });
});

describe("cancel", () => {
  it("cancels a sleeping run nobody is driving", async () => {
    const run = await start(wf.waitsForever, []);
    for (let i = 0; i < 200 && (await world.waits.list({ runId: run.runId })).length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await run.cancel();
    expect(await run.status).toBe("cancelled");
    await expect(run.returnValue).rejects.toSatisfy((e) => WorkflowRunCancelledError.is(e));
    await run.cancel(); // a second cancel is a no-op
  });

  it("cancels a run while one of its steps is executing", async () => {
    const run = await start(wf.busy, []);
    for (let i = 0; i < 200 && release === undefined; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    await run.cancel();
    expect(await run.status).toBe("cancelled");
    release?.();
    const types = (await world.events.list(run.runId)).map((e) => e.type);
    expect(types.at(-1)).toBe("run_cancelled");
    expect(types).not.toContain("step_completed");
  });
});

describe("bad input", () => {
  it("refuses something that is not a workflow, and writes nothing", async () => {
    const notAWorkflow = async () => 1;
    await expect(start(notAWorkflow as never, [])).rejects.toSatisfy(
      (e) => WorkflowNotRegisteredError.is(e) && /not a workflow/.test((e as Error).message),
    );
    await expect(start(workflowReference("workflow//nope.ts//missing"), [])).rejects.toSatisfy(
      (e) =>
        WorkflowNotRegisteredError.is(e) &&
        /Registered workflows: .*workflow\/\/test\/control.ts\/\/meta/.test((e as Error).message),
    );
    expect((await world.runs.list()).items).toHaveLength(0);
  });

  it("refuses arguments that cannot be serialized, and writes nothing", async () => {
    const failure = await start(wf.meta, [() => 1] as never).catch((e: unknown) => e);
    expect(SerializationError.is(failure)).toBe(true);
    expect((failure as Error).message).toMatch(/cannot be serialized.*\[0\]|cannot be serialized/);
    const symbolArgs = await start(wf.meta, [{ s: Symbol("x") }] as never).catch((e: unknown) => e);
    expect(SerializationError.is(symbolArgs)).toBe(true);
    expect((await world.runs.list()).items).toHaveLength(0);
  });

  it("says clearly that an unknown run id does not exist", async () => {
    const failure = await getRun("wrun_01JZZZZZZZZZZZZZZZZZZZZZZZ").status.catch((e: unknown) => e);
    expect(RunNotFoundError.is(failure)).toBe(true);
    expect((failure as Error).message).toMatch(/No run with id/);
  });
});

describe("runs from a newer version", () => {
  it("are left alone, untouched, with a warning", async () => {
    const warnings: string[] = [];
    configure({ world, worker: { warn: (message) => warnings.push(message) } });
    const runId = "wrun_01JFUTURE0000000000000000";
    await world.runs.create({
      runId,
      workflowName: wf.meta.workflowId,
      specVersion: 99,
      encrypted: false,
      seed: "00112233445566778899aabbccddeeff",
      input: new Uint8Array([0x01, 0x5b, 0x5d]),
    });
    // Any start() wakes the in-process worker, which claims the future run's message too.
    const other = await start(wf.meta, []);
    await other.returnValue;
    for (let i = 0; i < 100 && warnings.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(warnings.join("\n")).toContain(
      `created by a newer Stepwise (format 99, this worker knows ${SPEC_VERSION}); leaving it`,
    );
    const run = await world.runs.get(runId);
    expect(run.status).toBe("pending");
    expect(run.seq).toBe(1);
    expect((await world.events.list(runId)).map((e) => e.type)).toEqual(["run_created"]);
  });
});
