/**
 * `createTestEnv()` under the test's control: with auto-advance off, time moves only with
 * `advance`/`advanceTo`; hooks and events are delivered with `resumeHook`/`sendEvent`, event
 * waits' and steps' timeouts pass on the virtual clock, `mockStep` replaces a step's body for one
 * environment only, and the environment leaves the process's World (`configure`/`getWorld`) alone.
 */
import { afterEach, describe, expect, it } from "vitest";
import { configure, getWorld, shutdown } from "../../src/api/index.ts";
import { RetryableError } from "../../src/errors/user.ts";
import { createTestEnv, type TestEnv } from "../../src/testing/index.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

const HOUR = 60 * 60 * 1000;
const envs: TestEnv[] = [];
const open = async (options?: Parameters<typeof createTestEnv>[0]): Promise<TestEnv> => {
  const env = await createTestEnv(options);
  envs.push(env);
  return env;
};
afterEach(async () => {
  for (const env of envs.splice(0)) await env.close();
});

const calls: string[] = [];
const greet = async (name: string) => {
  calls.push(name);
  return `hello ${name}`;
};
let limited = 0;
const rateLimited = async () => {
  limited += 1;
  if (limited === 1) throw new RetryableError("slow down", { retryAfter: "2 hours" });
  return limited;
};
/** Never settles by itself: only its timeout ends an attempt. */
const hangs = Object.assign(async () => new Promise<never>(() => {}), { timeout: "1 hour", maxRetries: 0 });

const notImported = async () => "never";

const wf = defineWorkflows("test/testing-env-control.ts", {
  steps: { greet, rateLimited, hangs, notImported },
  // A step whose file the test forgot to import.
  unregistered: ["notImported"],
  workflows: {
    sleepThenGreet:
      ({ steps, api }) =>
      async (name: string) => {
        await api.sleep("1 day");
        return steps.greet(name);
      },
    approval:
      ({ api }) =>
      async () => {
        const hook = api.createHook<{ ok: boolean }>({ token: "approve-1" });
        const decision = await hook;
        return decision.ok ? "approved" : "rejected";
      },
    eventOrTimeout:
      ({ api }) =>
      async () => {
        try {
          const event = await api.waitForEvent<string>("shipped", { timeout: "3 days" });
          return `shipped ${event.payload}`;
        } catch (error) {
          return `gave up: ${(error as Error).name}`;
        }
      },
    retryAfter:
      ({ steps }) =>
      async () =>
        steps.rateLimited(),
    timesOut:
      ({ steps }) =>
      async () => {
        try {
          await steps.hangs();
          return "finished";
        } catch (error) {
          return (error as Error).name;
        }
      },
    greetOnly:
      ({ steps }) =>
      async (name: string) =>
        steps.greet(name),
    callsMissing:
      ({ steps }) =>
      async () =>
        steps.notImported(),
  },
});

describe("createTestEnv and a step that is not in the process", () => {
  it("fails the run at once as not registered (a worker would wait for code forever)", async () => {
    const env = await open();
    const run = await env.start(wf.callsMissing);
    await expect(run.returnValue).rejects.toMatchObject({
      name: "WorkflowRunFailedError",
      message: expect.stringContaining("is not registered in this worker"),
    });
  });
});

describe("createTestEnv with auto-advance off", () => {
  it("moves time only with advance/advanceTo", async () => {
    calls.length = 0;
    const env = await open({ autoAdvance: false, startAt: new Date("2030-01-01T00:00:00Z") });
    const run = await env.start(wf.sleepThenGreet, ["ada"]);
    await env.settled();
    expect(await run.status).toBe("running");
    await env.advance("23 hours");
    expect(await run.status).toBe("running");
    expect(calls).toEqual([]);
    await env.advanceTo(new Date("2030-01-02T00:00:00Z"));
    expect(await run.returnValue).toBe("hello ada");
    expect(calls).toEqual(["ada"]);
    const completed = (await run.events()).find((event) => event.type === "wait_completed");
    expect(completed?.at.toISOString()).toBe("2030-01-02T00:00:00.000Z");
  });

  it("delivers a hook payload with resumeHook", async () => {
    const env = await open({ autoAdvance: false });
    const run = await env.start(wf.approval);
    await env.settled();
    await env.resumeHook("approve-1", { ok: true });
    expect(await run.returnValue).toBe("approved");
    const received = (await run.events()).find((event) => event.type === "hook_received");
    expect(received?.payload).toEqual({ ok: true });
  });

  it("delivers an event with sendEvent, or lets the wait time out when the clock passes it", async () => {
    const env = await open({ autoAdvance: false });
    const sent = await env.start(wf.eventOrTimeout);
    const late = await env.start(wf.eventOrTimeout);
    await env.settled();
    await env.sendEvent(sent.runId, "shipped", "parcel-7");
    expect(await sent.returnValue).toBe("shipped parcel-7");
    expect(await late.status).toBe("running");
    await env.advance("3 days");
    expect(await late.returnValue).toBe("gave up: WaitTimeoutError");
  });

  it("waits a RetryableError's retryAfter on the virtual clock", async () => {
    limited = 0;
    const env = await open({ autoAdvance: false });
    const run = await env.start(wf.retryAfter);
    await env.settled();
    expect(limited).toBe(1);
    await env.advance(2 * HOUR - 1);
    expect(limited).toBe(1);
    await env.advance("1s");
    expect(await run.returnValue).toBe(2);
  });
});

describe("createTestEnv with auto-advance", () => {
  it("passes a step timeout at once", async () => {
    const env = await open();
    const wall = performance.now();
    const startedAt = env.now().getTime();
    const run = await env.start(wf.timesOut);
    expect(await run.returnValue).toBe("StepTimeoutError");
    expect(env.now().getTime() - startedAt).toBeGreaterThanOrEqual(HOUR);
    expect(performance.now() - wall).toBeLessThan(10_000);
    const [step] = await run.steps();
    expect(step).toMatchObject({ status: "failed", attempt: 1 });
  });

  it("mocks a step for one environment only, until close", async () => {
    calls.length = 0;
    const mocked = await open();
    const plain = await open();
    mocked.mockStep(greet, async (name: string) => `mocked ${name}`);
    const a = await mocked.start(wf.greetOnly, ["bo"]);
    const b = await plain.start(wf.greetOnly, ["cy"]);
    expect(await a.returnValue).toBe("mocked bo");
    expect(await b.returnValue).toBe("hello cy");
    expect(calls).toEqual(["cy"]);
    expect(() =>
      mocked.mockStep(
        async () => 1,
        async () => 2,
      ),
    ).toThrow(/not a registered step/);
  });

  it("keeps its runs out of the process's World, and the process's World out of it", async () => {
    const processWorld = createMemoryWorld();
    configure({ world: processWorld });
    try {
      const env = await open();
      const run = await env.start(wf.greetOnly, ["di"], { id: "isolated-1" });
      expect(await run.returnValue).toBe("hello di");
      expect(env.world).not.toBe(await getWorld());
      expect((await processWorld.runs.list({})).items).toEqual([]);
      expect((await env.world.runs.get("isolated-1")).status).toBe("completed");
    } finally {
      await shutdown();
    }
  });
});
