import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, shutdown, start } from "../../src/api/index.ts";
import { WorkflowRunFailedError } from "../../src/errors/runtime.ts";
import { FatalError, RetryableError } from "../../src/errors/user.ts";
import { decodeValue } from "../../src/serde/codec.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import { places } from "../../src/serde/places.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

let world: World;
beforeEach(() => {
  world = createMemoryWorld();
  configure({ world, worker: { holdMs: 5_000 } });
});
afterEach(async () => {
  await shutdown();
});

const attempts = new Map<string, number>();
const bump = (key: string): number => {
  const n = (attempts.get(key) ?? 0) + 1;
  attempts.set(key, n);
  return n;
};

const flaky = Object.assign(
  async (key: string) => {
    const n = bump(key);
    if (n < 3) throw new Error(`flaky failure ${n}`);
    return `ok after ${n}`;
  },
  { retries: { delay: "10ms", backoff: "constant" as const } },
);

const alwaysFails = Object.assign(
  async (key: string) => {
    bump(key);
    const error = new TypeError(`broken ${key}`);
    throw error;
  },
  { maxRetries: 2, retries: { delay: 5 } },
);

const retryAfter = async (key: string) => {
  const n = bump(key);
  if (n === 1) throw new RetryableError("rate limited", { retryAfter: "30ms" });
  return n;
};

const fatalOnce = async (key: string) => {
  bump(key);
  throw new FatalError(`fatal ${key}`);
};

const wf = defineWorkflows("test/retries.ts", {
  steps: { flaky, alwaysFails, retryAfter, fatalOnce },
  workflows: {
    flakyFlow: ({ steps }) =>
      async function flakyFlow(key: string) {
        return await steps.flaky(key);
      },
    exhausted: ({ steps }) =>
      async function exhausted(key: string) {
        try {
          await steps.alwaysFails(key);
          return "unreachable";
        } catch (error) {
          const e = error as Error;
          return {
            name: e.name,
            message: e.message,
            isTypeError: e instanceof TypeError,
            stack: e.stack ?? "",
          };
        }
      },
    uncaught: ({ steps }) =>
      async function uncaught(key: string) {
        return await steps.alwaysFails(key);
      },
    retryAfterFlow: ({ steps }) =>
      async function retryAfterFlow(key: string) {
        return await steps.retryAfter(key);
      },
    fatalFlow: ({ steps, api }) =>
      async function fatalFlow(key: string) {
        try {
          await steps.fatalOnce(key);
        } catch (error) {
          return { fatal: api.FatalError.is(error), instance: error instanceof api.FatalError };
        }
      },
  },
});

describe("step retries", () => {
  it("retries a failing step until it succeeds, recording every attempt", async () => {
    const run = await start(wf.flakyFlow, ["a"]);
    expect(await run.returnValue).toBe("ok after 3");
    const events = await world.events.list(run.runId);
    const stepEvents = events.filter((e) => e.type.startsWith("step_"));
    expect(stepEvents.map((e) => `${e.type}:${"attempt" in e.data ? e.data.attempt : ""}`)).toEqual([
      "step_started:1",
      "step_retrying:1",
      "step_started:2",
      "step_retrying:2",
      "step_started:3",
      "step_completed:3",
    ]);
    const [step] = await world.steps.list(run.runId);
    expect(step?.attempt).toBe(3);
    expect(step?.status).toBe("completed");
    const codec = createPayloadCodec();
    const firstError = stepEvents[1];
    expect(firstError?.payload).toBeDefined();
    const record = await world.runs.get(run.runId);
    const place = places.stepError(step?.stepId ?? "");
    const error = decodeValue(codec.decode(record, place, firstError?.payload as Uint8Array)) as Error;
    expect(error.message).toBe("flaky failure 1");
  });

  it("rejects in the workflow with the original error once attempts are exhausted", async () => {
    const run = await start(wf.exhausted, ["b"]);
    const result = (await run.returnValue) as {
      name: string;
      message: string;
      isTypeError: boolean;
      stack: string;
    };
    expect(attempts.get("b")).toBe(3);
    expect(result.name).toBe("TypeError");
    expect(result.message).toBe("broken b");
    expect(result.isTypeError).toBe(true);
    expect(result.stack).toContain("retries.test.ts");
  });

  it("fails the run when the workflow does not catch, keeping the cause", async () => {
    const run = await start(wf.uncaught, ["c"]);
    const failure = await run.returnValue.catch((error: unknown) => error);
    expect(WorkflowRunFailedError.is(failure)).toBe(true);
    const cause = (failure as Error).cause as Error;
    expect(cause.name).toBe("TypeError");
    expect(cause.message).toBe("broken c");
    expect(await run.status).toBe("failed");
  });

  it("honours RetryableError's retryAfter", async () => {
    const started = Date.now();
    const run = await start(wf.retryAfterFlow, ["d"]);
    expect(await run.returnValue).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    const retrying = (await world.events.list(run.runId)).find((e) => e.type === "step_retrying");
    expect(
      retrying?.type === "step_retrying" && retrying.data.retryAt - retrying.createdAt,
    ).toBeGreaterThanOrEqual(25);
  });

  it("does not retry a FatalError, and FatalError.is works across the sandbox boundary", async () => {
    const run = await start(wf.fatalFlow, ["e"]);
    expect(await run.returnValue).toEqual({ fatal: true, instance: true });
    expect(attempts.get("e")).toBe(1);
  });
});
