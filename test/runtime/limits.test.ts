import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getHookByToken, resumeHook, shutdown, start } from "../../src/api/index.ts";
import { PayloadTooLargeError, WorkflowRunFailedError } from "../../src/errors/runtime.ts";
import { decodeValue } from "../../src/serde/codec.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import { places } from "../../src/serde/places.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

let world: World;
beforeEach(() => {
  world = createMemoryWorld();
  configure({ world, limits: { maxPayloadBytes: 2_000, maxRunBytes: 10_000 } });
});
afterEach(async () => {
  await shutdown();
});

let bigResultRuns = 0;
const wf = defineWorkflows("test/limits.ts", {
  steps: {
    echo: async (text: string) => text.length,
    bigResult: async () => {
      bigResultRuns += 1;
      return "x".repeat(3_000);
    },
    medium: async () => "m".repeat(1_500),
  },
  workflows: {
    bigArgs: ({ steps }) =>
      async function bigArgs() {
        try {
          await steps.echo("y".repeat(5_000));
          return "sent";
        } catch (error) {
          return `${(error as Error).name}: ${(error as Error).message}`;
        }
      },
    bigResult: ({ steps }) =>
      async function bigResult() {
        try {
          return await steps.bigResult();
        } catch (error) {
          return `${(error as Error).name}: ${(error as Error).message}`;
        }
      },
    manyMedium: ({ steps }) =>
      async function manyMedium() {
        let n = 0;
        try {
          for (;;) {
            await steps.medium();
            n += 1;
          }
        } catch (error) {
          return { n, error: `${(error as Error).name}: ${(error as Error).message}` };
        }
      },
    bigReturn: () =>
      async function bigReturn() {
        return "z".repeat(5_000);
      },
    waits: ({ api }) =>
      async function waits(token: string) {
        return await api.createHook<string>({ token });
      },
  },
});

describe("payload limits", () => {
  it("refuses start() arguments over the limit, writing nothing", async () => {
    const failure = await start(wf.waits, ["t".repeat(3_000)]).catch((e: unknown) => e);
    expect(PayloadTooLargeError.is(failure)).toBe(true);
    expect((failure as Error).message).toMatch(
      /arguments of workflow .*waits is 2\.\d KB, over the 2\.0 KB limit per payload/,
    );
    expect((await world.runs.list()).items).toHaveLength(0);
  });

  it("rejects a step call whose arguments are too large, naming the step, without running it", async () => {
    const run = await start(wf.bigArgs, []);
    expect(await run.returnValue).toMatch(
      /^PayloadTooLargeError: The arguments of step step\/\/test\/limits.ts\/\/echo is 4\.9 KB/,
    );
    const steps = await world.steps.list(run.runId);
    expect(steps[0]?.status).toBe("failed");
    expect(steps[0]?.input).toBeUndefined();
  });

  it("fails a step whose result is too large, without retrying", async () => {
    const run = await start(wf.bigResult, []);
    expect(await run.returnValue).toMatch(
      /^PayloadTooLargeError: The result of step step\/\/test\/limits.ts\/\/bigResult is 2\.\d KB/,
    );
    expect(bigResultRuns).toBe(1);
  });

  it("enforces the total per run: the step that would cross it fails, naming the run and the sizes", async () => {
    const run = await start(wf.manyMedium, []);
    // The run is now at its limit, so even its (small) return value cannot be stored.
    const failure = await run.returnValue.catch((e: unknown) => e);
    expect(PayloadTooLargeError.is((failure as Error).cause)).toBe(true);
    const steps = await world.steps.list(run.runId);
    expect(steps.length).toBeGreaterThan(2);
    const last = steps.at(-1);
    expect(last?.status).toBe("failed");
    const codec = createPayloadCodec();
    const record = await world.runs.get(run.runId);
    const place = places.stepError(last?.stepId ?? "");
    const error = decodeValue(codec.decode(record, place, last?.error as Uint8Array)) as Error;
    expect(error.message).toMatch(
      /^The result of step .*medium .* would take run wrun_\w+ to .*, over the 9\.8 KB limit per run/,
    );
  });

  it("fails the run when its return value is too large", async () => {
    const run = await start(wf.bigReturn, []);
    const failure = await run.returnValue.catch((e: unknown) => e);
    expect(WorkflowRunFailedError.is(failure)).toBe(true);
    expect(PayloadTooLargeError.is((failure as Error).cause)).toBe(true);
  });

  it("refuses a hook payload over the limit, writing nothing", async () => {
    const run = await start(wf.waits, ["limit-hook"]);
    for (let i = 0; i < 200 && !(await getHookByToken("limit-hook").catch(() => undefined)); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const failure = await resumeHook("limit-hook", "p".repeat(3_000)).catch((e: unknown) => e);
    expect(PayloadTooLargeError.is(failure)).toBe(true);
    expect(await world.inbox.list(run.runId)).toHaveLength(0);
    await resumeHook("limit-hook", "small");
    expect(await run.returnValue).toBe("small");
  });
});
