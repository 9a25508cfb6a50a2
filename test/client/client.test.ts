/**
 * The client core (`src/client/`): a program holds several clients, each on its own World, and
 * every write a client makes (start, hook payloads, events, pause, resume, cancel, restart) lands
 * in its World alone, sealed with its codec and checked against its limits; the process's client
 * (`stepwise-workflows/api`) sees none of it. Workers here are real `Worker`s on memory Worlds.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  type Client,
  configure,
  createClient,
  getWorld,
  processClient,
  shutdown,
  start,
} from "../../src/api/index.ts";
import { RunFinishedError } from "../../src/errors/world.ts";
import { inProcessWorker, inProcessWorkerOff } from "../../src/process/process.ts";
import { workflowReference } from "../../src/runtime/registry.ts";
import { Worker } from "../../src/runtime/worker.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

const wf = defineWorkflows("test/client.ts", {
  steps: {
    shout: async (text: string) => text.toUpperCase(),
  },
  workflows: {
    greeter: ({ api, steps }) =>
      async function greeter(name: string) {
        const hook = api.createHook<{ word: string }>({ token: `hello-${name}` });
        const { word } = await hook;
        const event = await api.waitForEvent<{ n: number }>("count");
        return `${await steps.shout(word)} ${name} ${event.payload.n}`;
      },
    waits: ({ api }) =>
      async function waits() {
        await api.waitForEvent("never");
        return "done";
      },
  },
});

const workers: Worker[] = [];
const worlds: World[] = [];

function worldWithWorker(): World {
  const world = createMemoryWorld();
  const worker = new Worker({ world, holdMs: 0 });
  worker.start();
  workers.push(worker);
  worlds.push(world);
  return world;
}

afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.stop();
  for (const world of worlds.splice(0)) await world.close();
  await shutdown();
});

async function hookOf(client: Client, token: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    try {
      await client.getHookByToken(token);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  throw new Error(`hook ${token} never appeared`);
}

describe("clients of their own Worlds", () => {
  it("start, resume hooks and send events in their own World only", async () => {
    const processWorld = createMemoryWorld();
    configure({ world: processWorld, inProcessWorker: false });
    const a = createClient({ world: worldWithWorker() });
    const b = createClient({ world: worldWithWorker() });

    const runA = await a.start(wf.greeter, ["ann"]);
    const runB = await b.start(wf.greeter, ["bob"], { id: "greeter-bob" });
    await hookOf(a, "hello-ann");
    await hookOf(b, "hello-bob");
    // Each World holds its own run and hook, nothing of the other's.
    await expect(b.getHookByToken("hello-ann")).rejects.toMatchObject({ code: "HOOK_NOT_FOUND" });
    await expect((await b.world()).runs.get(runA.runId)).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });

    await a.resumeHook("hello-ann", { word: "hi" });
    await b.resumeHook("hello-bob", { word: "hey" });
    await a.sendEvent(runA.runId, "count", { n: 1 });
    await runB.sendEvent("count", { n: 2 });

    expect(await runA.returnValue).toBe("HI ann 1");
    expect(await runB.returnValue).toBe("HEY bob 2");
    expect(runB.runId).toBe("greeter-bob");
    // The process's client (stepwise-workflows/api) saw nothing.
    expect((await (await getWorld()).runs.list({})).items).toEqual([]);
  });

  it("control runs (pause, resume, cancel, restart) through the client that holds them", async () => {
    const client = createClient({ world: worldWithWorker() });
    const run = await client.start(wf.waits);
    await hooklessWait(client, run.runId);
    await run.pause();
    expect(await run.status).toBe("paused");
    await client.resumeRun(run.runId);
    expect(await run.status).toBe("running");
    const restarted = await run.restart();
    expect(restarted.generation).toBe(2);
    await client.cancelRun(run.runId);
    expect(await client.getRun(run.runId).status).toBe("cancelled");
    await expect(client.sendEvent(run.runId, "never", {})).rejects.toSatisfy((error) =>
      RunFinishedError.is(error),
    );
  });

  it("seal every payload with their own limits, refusing before anything is written", async () => {
    const limits = { maxPayloadBytes: 2_000, maxRunBytes: 100_000 };
    const world = worldWithWorker();
    const client = createClient({ world, limits });
    const big = "x".repeat(5_000);
    await expect(client.start(wf.greeter, [big])).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect((await world.runs.list({})).items).toEqual([]);
    const run = await client.start(wf.greeter, ["cy"]);
    await hookOf(client, "hello-cy");
    await expect(client.resumeHook("hello-cy", { word: big })).rejects.toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
    });
    await expect(client.sendEvent(run.runId, "count", { n: big })).rejects.toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
    });
    expect(await world.inbox.list(run.runId)).toEqual([]);
    // The same payloads fit the process's limits (the default 50 MB): the limits are the client's.
    const roomy = createClient({ world });
    await roomy.sendEvent(run.runId, "count", { n: big.length });
    expect(await world.inbox.list(run.runId)).toHaveLength(1);
  });
});

describe("the process's client", () => {
  it("is a client only by configuration, without writing the environment", async () => {
    const before = process.env.STEPWISE_WORKER;
    const world = createMemoryWorld();
    configure({ world, inProcessWorker: false });
    let runId: string;
    try {
      expect(inProcessWorkerOff()).toBe("configured");
      const run = await start(wf.greeter, ["dee"]);
      runId = run.runId;
      // A client only: no worker here, the run waits for one; a workflow not loaded is accepted.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(inProcessWorker()).toBeUndefined();
      expect(await run.status).toBe("pending");
      const elsewhere = await start(workflowReference<[], unknown>("workflow//elsewhere.ts//other"));
      expect((await world.runs.get(elsewhere.runId)).workflowName).toBe("workflow//elsewhere.ts//other");
      expect(process.env.STEPWISE_WORKER).toBe(before);
      expect(processClient().getRun(run.runId).runId).toBe(run.runId);
    } finally {
      configure({ inProcessWorker: true });
    }
    // Turned back on, the next use starts the in-process worker, which takes the waiting run.
    const handle = processClient().getRun(runId);
    for (let i = 0; i < 500 && (await handle.status) === "pending"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(inProcessWorker()).toBeDefined();
    expect(await handle.status).toBe("running");
  });
});

/** Waits until the run is running and nobody holds its lease (it waits for an event). */
async function hooklessWait(client: Client, runId: string): Promise<void> {
  const world = await client.world();
  for (let i = 0; i < 500; i++) {
    const run = await world.runs.get(runId);
    if (run.status === "running" && run.lease === undefined) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`run ${runId} never came to wait`);
}
