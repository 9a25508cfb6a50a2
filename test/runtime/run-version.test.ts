/**
 * The run's version (`getWorkflowMetadata().version`, `RunRecord.bundleHash`): a run sees the
 * hash of the workflow bundle it replays with, in its workflow and in its steps, the same as the
 * World keeps on the run; a run older than pinning sees undefined. `pinnedHash` reads the latest
 * of `run_created`, `run_started` and `run_upgraded` that names a bundle.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getRun, shutdown, start } from "../../src/api/index.ts";
import { pinnedHash } from "../../src/runtime/bundles.ts";
import { getWorkflowBundle } from "../../src/runtime/registry.ts";
import type { EventRecord } from "../../src/world/events.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { startUnpinned } from "../helpers/unpinned.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

const wf = defineWorkflows("test/run-version.ts", {
  steps: {
    stepVersion: async () => {
      const { getWorkflowMetadata } = await import("../../src/index.ts");
      return getWorkflowMetadata().version ?? null;
    },
  },
  workflows: {
    versioned: ({ steps, api }) =>
      async function versioned() {
        const inWorkflow = api.getWorkflowMetadata().version ?? null;
        return { inWorkflow, inStep: await steps.stepVersion() };
      },
  },
});

let world: World;
beforeEach(() => {
  world = createMemoryWorld();
  configure({ world });
});
afterEach(async () => {
  await shutdown();
});

describe("getWorkflowMetadata().version", () => {
  it("is the hash of the bundle the run replays with, in the workflow and its steps, as the World keeps it", async () => {
    const run = await start(wf.versioned, []);
    const hash = getWorkflowBundle(wf.versioned.workflowId)?.hash;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await run.returnValue).toEqual({ inWorkflow: hash, inStep: hash });
    expect((await world.runs.get(run.runId)).bundleHash).toBe(hash);
  });

  it("is undefined for a run older than pinning", async () => {
    const runId = await startUnpinned(wf.versioned.workflowId);
    expect(await getRun(runId).returnValue).toEqual({ inWorkflow: null, inStep: null });
    expect(await world.runs.get(runId)).not.toHaveProperty("bundleHash");
  });
});

describe("pinnedHash", () => {
  const event = (seq: number, type: string, data: object): EventRecord =>
    ({ runId: "r", seq, type, data, createdAt: seq }) as EventRecord;
  const a = "a".repeat(64);
  const b = "b".repeat(64);

  it("reads the latest of run_created, run_started and run_upgraded that names a bundle", () => {
    expect(pinnedHash([event(1, "run_created", {}), event(2, "run_started", {})])).toBeUndefined();
    expect(pinnedHash([event(1, "run_created", { bundleHash: a }), event(2, "run_started", {})])).toBe(a);
    expect(pinnedHash([event(1, "run_created", {}), event(2, "run_started", { bundleHash: b })])).toBe(b);
    const upgraded = [
      event(1, "run_created", { bundleHash: a }),
      event(2, "run_started", {}),
      event(3, "run_upgraded", { fromHash: a, toHash: b }),
      event(4, "wait_created", { waitId: "w", resumeAt: 9 }),
    ];
    expect(pinnedHash(upgraded)).toBe(b);
    expect(pinnedHash([...upgraded, event(5, "run_upgraded", { fromHash: b, toHash: a })])).toBe(a);
    // A run older than pinning, upgraded: pinned from then on.
    expect(pinnedHash([event(1, "run_created", {}), event(2, "run_upgraded", { toHash: b })])).toBe(b);
    // After a restart, the run keeps the version it was moved to (its run_started names none).
    expect(
      pinnedHash([
        ...upgraded,
        event(5, "run_cancelled", {}),
        event(6, "run_restarted", { generation: 2, fromCall: 0 }),
        event(7, "run_started", {}),
      ]),
    ).toBe(b);
  });
});
