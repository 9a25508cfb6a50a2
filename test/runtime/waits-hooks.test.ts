import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getHookByToken, resumeHook, shutdown, start } from "../../src/api/index.ts";
import { HookPayloadValidationError } from "../../src/errors/runtime.ts";
import { HookNotFoundError, HookTokenConflictError } from "../../src/errors/world.ts";
import { defineHook } from "../../src/index.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

let world: World;
beforeEach(() => {
  world = createMemoryWorld();
  configure({ world, worker: { holdMs: 0, maxCachedRuns: 0 } });
});
afterEach(async () => {
  await shutdown();
});

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("condition not reached");
}

const wf = defineWorkflows("test/waits-hooks.ts", {
  steps: {
    echo: async (value: unknown) => value,
  },
  workflows: {
    sleeper: ({ api, steps }) =>
      async function sleeper(ms: number) {
        const before = Date.now();
        await api.sleep(ms);
        const after = Date.now();
        await steps.echo("after");
        return after - before;
      },
    sleepUntil: ({ api }) =>
      async function sleepUntil(at: number) {
        await api.sleep(new Date(at));
        return Date.now() >= at;
      },
    badSleep: ({ api }) =>
      async function badSleep() {
        try {
          await api.sleep("soon-ish");
          return "slept";
        } catch (error) {
          return (error as Error).name;
        }
      },
    approval: ({ api, steps }) =>
      async function approval(token: string) {
        const hook = api.createHook<{ approved: boolean }>({ token });
        const first = await hook;
        await steps.echo(first);
        return first.approved ? "approved" : "rejected";
      },
    collect: ({ api }) =>
      async function collect(token: string, count: number) {
        const hook = api.createHook<number>({ token });
        const seen: number[] = [];
        for await (const value of hook) {
          seen.push(value);
          if (seen.length === count) break;
        }
        return seen;
      },
    conflicting: ({ api }) =>
      async function conflicting(token: string) {
        const hook = api.createHook({ token });
        try {
          await hook;
          return "received";
        } catch (error) {
          return { name: (error as Error).name, conflict: api.HookTokenConflictError.is(error) };
        }
      },
    typed: ({ api }) =>
      async function typed(token: string) {
        const schema = {
          "~standard": {
            version: 1,
            vendor: "test",
            validate: (value: unknown) =>
              typeof value === "object" && value !== null && typeof (value as { n?: unknown }).n === "number"
                ? { value }
                : { issues: [{ message: "n must be a number", path: ["n"] }] },
          },
        };
        const hook = api.defineHook<{ n: number }>({ schema: schema as never }).create({ token });
        try {
          return (await hook).n;
        } catch (error) {
          return (error as Error).name;
        }
      },
    disposer: ({ api }) =>
      async function disposer(token: string) {
        const hook = api.createHook({ token });
        hook.dispose();
        await api.sleep(20);
        return "done";
      },
  },
});

describe("durable sleep", () => {
  it("sleeps, evicts the run, and continues by replay with a consistent clock", async () => {
    const run = await start(wf.sleeper, [60]);
    const elapsed = (await run.returnValue) as number;
    expect(elapsed).toBeGreaterThanOrEqual(60);
    const waits = await world.waits.list({ runId: run.runId });
    expect(waits).toHaveLength(1);
    expect(waits[0]?.status).toBe("completed");
    const types = (await world.events.list(run.runId)).map((e) => e.type);
    expect(types).toContain("wait_created");
    expect(types).toContain("wait_completed");
  });

  it("sleeps until a Date", async () => {
    const run = await start(wf.sleepUntil, [Date.now() + 40]);
    expect(await run.returnValue).toBe(true);
  });

  it("rejects a malformed duration inside the workflow without writing a wait", async () => {
    const run = await start(wf.badSleep, []);
    expect(await run.returnValue).toBe("InvalidDurationError");
    expect(await world.waits.list({ runId: run.runId })).toHaveLength(0);
  });
});

describe("hooks", () => {
  it("suspends until resumeHook delivers the payload", async () => {
    const run = await start(wf.approval, ["approve-1"]);
    const hook = await until(
      () => getHookByToken("approve-1").catch(() => undefined),
      (h) => h !== undefined,
    );
    expect(hook?.runId).toBe(run.runId);
    expect(await run.status).toBe("running");
    await resumeHook("approve-1", { approved: true });
    expect(await run.returnValue).toBe("approved");
    // The token is free again once the run ended.
    await expect(getHookByToken("approve-1")).rejects.toSatisfy((e) => HookNotFoundError.is(e));
  });

  it("is async-iterable over every payload", async () => {
    const run = await start(wf.collect, ["stream-1", 3]);
    await until(
      () => getHookByToken("stream-1").catch(() => undefined),
      (h) => h !== undefined,
    );
    await resumeHook("stream-1", 1);
    await resumeHook("stream-1", 2);
    await resumeHook("stream-1", 3);
    expect(await run.returnValue).toEqual([1, 2, 3]);
  });

  it("gives the second run a catchable conflict while the first holds the token, then lets it be reused", async () => {
    const first = await start(wf.approval, ["shared"]);
    await until(
      () => getHookByToken("shared").catch(() => undefined),
      (h) => h !== undefined,
    );
    const second = await start(wf.conflicting, ["shared"]);
    expect(await second.returnValue).toEqual({ name: "HookTokenConflictError", conflict: true });
    await resumeHook("shared", { approved: false });
    expect(await first.returnValue).toBe("rejected");
    const third = await start(wf.approval, ["shared"]);
    await until(
      () => getHookByToken("shared").catch(() => undefined),
      (h) => h?.runId === third.runId,
    );
    await resumeHook("shared", { approved: true });
    expect(await third.returnValue).toBe("approved");
    expect(HookTokenConflictError.code).toBe("HOOK_TOKEN_CONFLICT");
  });

  it("frees the token on dispose", async () => {
    const run = await start(wf.disposer, ["disposable"]);
    expect(await run.returnValue).toBe("done");
    const hooks = await world.hooks.list({ runId: run.runId });
    expect(hooks[0]?.status).toBe("disposed");
  });

  it("validates payloads against the hook schema in the workflow and before sending", async () => {
    const run = await start(wf.typed, ["typed-1"]);
    await until(
      () => getHookByToken("typed-1").catch(() => undefined),
      (h) => h !== undefined,
    );
    const definition = defineHook<{ n: number }>({
      schema: {
        "~standard": {
          version: 1,
          vendor: "test",
          validate: (value: unknown) =>
            typeof (value as { n?: unknown }).n === "number"
              ? { value: value as { n: number } }
              : { issues: [{ message: "n must be a number" }] },
        },
      },
    });
    const refused = await definition.resume("typed-1", { n: "x" } as never).catch((e: unknown) => e);
    expect(HookPayloadValidationError.is(refused)).toBe(true);
    expect(await world.inbox.list(run.runId)).toHaveLength(0);
    // A payload sent without the schema check is still validated inside the workflow.
    await resumeHook("typed-1", { n: "not a number" });
    expect(await run.returnValue).toBe("HookPayloadValidationError");
  });

  it("refuses an unknown token with a typed error and writes nothing", async () => {
    const failure = await resumeHook("no-such-token", {}).catch((e: unknown) => e);
    expect(HookNotFoundError.is(failure)).toBe(true);
    expect((failure as Error).message).toMatch(/No active hook/);
  });
});
