/**
 * `createTestEnv()` (stepwise-workflows/testing): a week's sleep and a step's default retry
 * backoffs pass at once on the virtual clock, the workflow's own `Date.now()` follows it, and
 * the environment never touches the process's World. Workflows are defined without the
 * compiler (test/helpers/workflows.ts); test/e2e/testing-env.test.ts runs the README's example
 * through the compiler in a user project under node:test.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../../src/testing/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

const DAY = 24 * 60 * 60 * 1000;
let env: TestEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

let attempts = 0;
/** Fails its first three attempts; default retry policy (5 s, then 10 s, then 20 s). */
const flakyCharge = async (amount: number) => {
  attempts += 1;
  if (attempts <= 3) throw new Error(`card declined (attempt ${attempts})`);
  return { charged: amount, attempt: attempts };
};

const wf = defineWorkflows("test/testing-env.ts", {
  steps: { flakyCharge },
  workflows: {
    weekThenCharge:
      ({ steps, api }) =>
      async (amount: number) => {
        const before = Date.now();
        await api.sleep("7 days");
        const charge = await steps.flakyCharge(amount);
        return { ...charge, slept: Date.now() - before };
      },
  },
});

describe("createTestEnv", () => {
  it("passes a week's sleep and three default retry delays at once (auto-advance)", async () => {
    attempts = 0;
    env = await createTestEnv();
    const startedAt = env.now().getTime();
    const wall = performance.now();
    const run = await env.start(wf.weekThenCharge, [42]);
    const result = await run.returnValue;
    const wallMs = performance.now() - wall;
    expect(result.charged).toBe(42);
    expect(result.attempt).toBe(4);
    // The workflow's own clock saw the week pass.
    expect(result.slept).toBeGreaterThanOrEqual(7 * DAY);
    // Virtual time: a week, then 5 + 10 + 20 s of backoff.
    expect(env.now().getTime() - startedAt).toBeGreaterThanOrEqual(7 * DAY + 35_000);
    // It did not really wait (a generous bound: the point is not 7 days, nor 35 s).
    expect(wallMs).toBeLessThan(10_000);
    const [step] = await run.steps();
    expect(step).toMatchObject({ stepName: wf.stepIds.flakyCharge, status: "completed", attempt: 4 });
    expect(step?.result).toEqual({ charged: 42, attempt: 4 });
    const events = await run.events();
    const retries = events.filter((event) => event.type === "step_retrying");
    expect(retries).toHaveLength(3);
    expect(retries.map((event) => (event.payload as Error).message)).toEqual([
      "card declined (attempt 1)",
      "card declined (attempt 2)",
      "card declined (attempt 3)",
    ]);
    // Backoff doubles from 5 s: the attempts are 5, 10 and 20 virtual seconds apart.
    const starts = events.filter((event) => event.type === "step_started").map((event) => event.at.getTime());
    const gaps = starts.slice(1).map((at, i) => at - (starts[i] as number));
    expect(gaps).toEqual([5_000, 10_000, 20_000]);
  });
});
