/**
 * The worker claims only runs of the workflows registered in its process: a run of a workflow it
 * does not have is never claimed (no delivery, no warning), and is picked up as soon as the
 * workflow is registered. With a World that ignores the claim's workflow filter, the old hand-back
 * remains as a safety net: the run is left for a worker that has the workflow, with a warning that
 * names the World.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SPEC_VERSION } from "../../src/runtime/version.ts";
import { Worker } from "../../src/runtime/worker.ts";
import { encodeValue } from "../../src/serde/codec.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import { places } from "../../src/serde/places.ts";
import { newId, newRunSeed } from "../../src/util/ids.ts";
import type { RunRecord, RunStatus, World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

const payloads = createPayloadCodec();
let world: World;
let worker: Worker | undefined;
let warnings: string[];

beforeEach(() => {
  world = createMemoryWorld();
  warnings = [];
});
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await world.close();
});

const early = defineWorkflows("test/claims-early.ts", {
  steps: { twice: async (n: number) => n * 2 },
  workflows: {
    early: ({ steps }) =>
      async function early(n: number) {
        return await steps.twice(n);
      },
  },
});
const LATE = "workflow//test/claims-late.ts//late";

/** A long lease: no claim timer armed for a lease's expiry wakes the worker during a test. */
function startWorker(on: World): Worker {
  worker = new Worker({ world: on, payloads, leaseMs: 600_000, warn: (message) => warnings.push(message) });
  worker.start();
  return worker;
}

/** Creates a run the way `start()` does, for a workflow id this process may not have. */
function createRun(workflowName: string, args: unknown[]): Promise<RunRecord> {
  const runId = newId("wrun");
  const scope = { runId, encrypted: false, specVersion: SPEC_VERSION };
  return world.runs.create({
    runId,
    workflowName,
    specVersion: SPEC_VERSION,
    seed: newRunSeed(),
    encrypted: false,
    input: payloads.encode(scope, places.runInput, encodeValue(args)),
  });
}

async function waitForStatus(runId: string, status: RunStatus, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await world.runs.get(runId)).status !== status) {
    if (Date.now() > deadline) throw new Error(`run ${runId} did not become ${status} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("claims by workflow", () => {
  it("never claims a run of a workflow it does not have, and takes it once the workflow is registered", async () => {
    startWorker(world);
    const late = await createRun(LATE, [5]);
    const mine = await createRun(early.early.workflowId, [21]);
    await waitForStatus(mine.runId, "completed");
    // The worker has looked at the queue since the late run was created: it left it alone.
    const [waiting] = await world.queue.list(late.runId);
    expect(waiting).toMatchObject({ kind: "start", deliveries: 0 });
    expect(waiting?.lease).toBeUndefined();
    expect((await world.runs.get(late.runId)).status).toBe("pending");

    defineWorkflows("test/claims-late.ts", {
      steps: { plusOne: async (n: number) => n + 1 },
      workflows: {
        late: ({ steps }) =>
          async function late(n: number) {
            return await steps.plusOne(n);
          },
      },
    });
    await waitForStatus(late.runId, "completed");
    expect(warnings).toEqual([]);
  });

  it("hands a run back, saying why, when the World ignores the workflow filter", async () => {
    const unfiltered: World = {
      ...world,
      queue: {
        ...world.queue,
        claim: (owner, { limit, leaseMs }) => world.queue.claim(owner, { limit, leaseMs }),
        nextAvailableAt: () => world.queue.nextAvailableAt(),
      },
    };
    startWorker(unfiltered);
    const other = await createRun("workflow//elsewhere.ts//other", []);
    const deadline = Date.now() + 10_000;
    while (warnings.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("has no workflow workflow//elsewhere.ts//other");
    expect(warnings[0]).toContain(`the memory World gave it run ${other.runId}`);
    expect(warnings[0]).toContain("ignores the workflow filter of queue.claim");
    await worker?.whenIdle();
    const [message] = await world.queue.list(other.runId);
    expect(message).toMatchObject({ kind: "start", deliveries: 1 });
    expect(message?.lease).toBeUndefined();
    expect(message?.availableAt).toBeGreaterThan(Date.now() + 3_000);
    expect((await world.runs.get(other.runId)).lease).toBeUndefined();
  });
});
