/**
 * A worker that picks up a run reads its inbox alongside its log (one round trip fewer before the
 * first step over a remote World), and its driver takes that read — unless something was said of
 * the inbox while the log was read, in which case it reads again and misses nothing. Counted with
 * a World that wraps the memory World.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getHookByToken, resumeHook, shutdown, start } from "../../src/api/index.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

const wf = defineWorkflows("test/inbox-read.ts", {
  steps: { echo: async (value: unknown) => value },
  workflows: {
    twoPayloads: ({ api, steps }) =>
      async function twoPayloads(token: string) {
        const hook = api.createHook<string>({ token });
        const got: string[] = [];
        for await (const payload of hook) {
          got.push((await steps.echo(payload)) as string);
          if (got.length === 2) break;
        }
        return got;
      },
  },
});

let inner: World;
let inboxReads = 0;
/** Called once at the next events.list, before it answers (while the worker replays). */
let duringLogRead: (() => Promise<void>) | undefined;

beforeEach(() => {
  inner = createMemoryWorld();
  inboxReads = 0;
  duringLogRead = undefined;
  const world: World = {
    ...inner,
    events: {
      ...inner.events,
      async list(runId, options) {
        const hook = duringLogRead;
        duringLogRead = undefined;
        await hook?.();
        return inner.events.list(runId, options);
      },
    },
    inbox: {
      ...inner.inbox,
      async list(runId) {
        inboxReads += 1;
        return inner.inbox.list(runId);
      },
    },
  };
  configure({ world, worker: { holdMs: 0, maxCachedRuns: 0 } });
});
afterEach(async () => {
  await shutdown();
});

async function hookWaiting(token: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await getHookByToken(token).catch(() => undefined)) !== undefined) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the hook never appeared");
}

describe("the inbox read at pickup", () => {
  it("is read once, alongside the log, when nothing arrives meanwhile", async () => {
    const run = await start(wf.twoPayloads, ["quiet"]);
    await hookWaiting("quiet");
    await new Promise((resolve) => setTimeout(resolve, 50)); // the run is handed back (holdMs 0)
    inboxReads = 0;
    let readsAtLog = -1;
    duringLogRead = async () => {
      readsAtLog = inboxReads;
    };
    await resumeHook("quiet", "a");
    await resumeHook("quiet", "b");
    expect(await run.returnValue).toEqual(["a", "b"]);
    // The pickup's inbox read was on its way when the log was read: no second read before the step.
    expect(readsAtLog).toBe(1);
  });

  it("is read again when a payload arrives while the log is read, and nothing is missed", async () => {
    const run = await start(wf.twoPayloads, ["busy"]);
    await hookWaiting("busy");
    await new Promise((resolve) => setTimeout(resolve, 50));
    duringLogRead = async () => {
      await resumeHook("busy", "second"); // after the pickup's inbox read, before the driver
    };
    inboxReads = 0;
    await resumeHook("busy", "first");
    expect(await run.returnValue).toEqual(["first", "second"]);
    expect(inboxReads).toBeGreaterThanOrEqual(2);
  });
});
