/**
 * A worker claims only what it can start now (`runtime/capacity.ts`): each run it drives demands
 * the step slots of its running steps, at least one, and it claims no more runs than slots are
 * left. Runs it cannot start stay in the queue, unclaimed, for another worker; a message a World
 * hands it beyond that is let go at once, untouched; and when a fan-out's steps end and free their
 * slots, it claims again while the run goes on. Steps here wait on gates the test opens, so what
 * each worker holds is looked at while nothing moves.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SPEC_VERSION } from "../../src/runtime/version.ts";
import { Worker } from "../../src/runtime/worker.ts";
import { encodeValue } from "../../src/serde/codec.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import { places } from "../../src/serde/places.ts";
import { newId, newRunSeed } from "../../src/util/ids.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

const payloads = createPayloadCodec();
let world: World;
let workers: Worker[];

/** Steps running now, by label, each with the gate that lets it finish. */
const gates = new Map<string, () => void>();

beforeEach(() => {
  world = createMemoryWorld();
  workers = [];
  gates.clear();
});
afterEach(async () => {
  // Steps that were waiting for a slot reach their gate once others end: keep opening.
  const opener = setInterval(openGates, 5);
  await Promise.all(workers.map((worker) => worker.stop()));
  clearInterval(opener);
  await world.close();
});

const flows = defineWorkflows("test/capacity.ts", {
  steps: {
    gated: (label: string) => new Promise<string>((resolve) => gates.set(label, () => resolve(label))),
  },
  workflows: {
    one: ({ steps }) =>
      async function one(id: string) {
        return await steps.gated(id);
      },
    fanThenOne: ({ steps }) =>
      async function fanThenOne(id: string, width: number) {
        await Promise.all(Array.from({ length: width }, (_, i) => steps.gated(`${id}:fan${i}`)));
        return await steps.gated(`${id}:last`);
      },
  },
});

function startWorker(slots: number, on: World = world): Worker {
  const worker = new Worker({ world: on, payloads, leaseMs: 600_000, maxConcurrentSteps: slots });
  workers.push(worker);
  worker.start();
  return worker;
}

/** Creates runs of `workflow` the way `start()` does: arguments `<prefix><i>` (its steps' label) and `rest`. */
async function createRuns(
  count: number,
  workflow: string,
  prefix = "run",
  ...rest: unknown[]
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const runId = newId("wrun");
    const scope = { runId, encrypted: false, specVersion: SPEC_VERSION };
    await world.runs.create({
      runId,
      workflowName: workflow,
      specVersion: SPEC_VERSION,
      seed: newRunSeed(),
      encrypted: false,
      input: payloads.encode(scope, places.runInput, encodeValue([`${prefix}${i}`, ...rest])),
    });
    ids.push(runId);
  }
  return ids;
}

async function until(what: string, probe: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Runs whose message sits in the queue unclaimed, and runs nobody leases. */
async function unclaimed(runIds: string[]): Promise<number> {
  let count = 0;
  for (const runId of runIds) {
    const messages = await world.queue.list(runId);
    const run = await world.runs.get(runId);
    if (messages.length > 0 && messages.every((m) => m.lease === undefined) && run.lease === undefined)
      count += 1;
  }
  return count;
}

/** Opens the gates of the steps running now; returns how many. */
function openGates(): number {
  const open = [...gates.values()];
  gates.clear();
  for (const gate of open) gate();
  return open.length;
}

describe("a worker claims only what it can start now", () => {
  it("holds no more runs than step slots, leaving the rest unclaimed for another worker", async () => {
    const runIds = await createRuns(6, flows.one.workflowId);
    const first = startWorker(2);
    await until("two steps running", () => gates.size === 2);
    // Give the worker every chance to claim more than it can start.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(first.activeRuns).toBe(2);
    expect(first.runningSteps).toBe(2);
    expect(await unclaimed(runIds)).toBe(4);

    const second = startWorker(2);
    await until("four steps running", () => gates.size === 4);
    expect(second.activeRuns).toBe(2);
    expect(await unclaimed(runIds)).toBe(2);
    // Both go on with the rest as their slots free up.
    while (
      (await Promise.all(runIds.map((id) => world.runs.get(id)))).some((r) => r.status !== "completed")
    ) {
      openGates();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });

  it("lets go at once, untouched, of messages beyond what it can start", async () => {
    // A World that gives more than the claim's limit.
    const generous: World = {
      ...world,
      queue: {
        ...world.queue,
        claim: (owner, filter) => world.queue.claim(owner, { ...filter, limit: 100 }),
      },
    };
    const runIds = await createRuns(5, flows.one.workflowId);
    const worker = startWorker(2, generous);
    await until("two steps running", () => gates.size === 2);
    await until("three runs back in the queue", async () => (await unclaimed(runIds)) === 3);
    expect(worker.activeRuns).toBe(2);
    for (const runId of runIds) {
      const run = await world.runs.get(runId);
      // The runs let go were never leased, let alone replayed.
      if (run.lease === undefined) expect(run.status).toBe("pending");
    }
  });

  it("claims again when a fan-out's steps end, while the run goes on", async () => {
    const [fan] = await createRuns(1, flows.fanThenOne.workflowId, "fan", 3);
    const worker = startWorker(3);
    await until("the fan-out running", () => gates.size === 3);
    const [other] = await createRuns(1, flows.one.workflowId, "other");
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Full: three slots, three steps; the other run waits in the queue.
    expect(worker.activeRuns).toBe(1);
    expect(await unclaimed([other as string])).toBe(1);
    openGates();
    // The fan-out ended; its run goes on with one step, and the other run starts beside it.
    await until("both runs' steps running", () => gates.has("fan0:last") && gates.has("other0"));
    expect(worker.activeRuns).toBe(2);
    expect((await world.runs.get(fan as string)).status).toBe("running");
    openGates();
    await until("both runs completed", async () => {
      const runs = await Promise.all([fan, other].map((id) => world.runs.get(id as string)));
      return runs.every((run) => run.status === "completed");
    });
  });
});
