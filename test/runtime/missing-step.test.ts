/**
 * A run that calls a step the worker's code does not have (a deploy removed or renamed it), on
 * every World: the run is not failed. The worker records once that it waits for code
 * (`step_unavailable`), starts none of the steps called with it, lets the steps in flight finish,
 * and hands the run back; `inspect` shows what it waits for. Once a worker has the step (here the
 * same process registers it, as a newly deployed worker would have it), the run goes on where it
 * stood and completes, each step executed once.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, shutdown, start } from "../../src/api/index.ts";
import { describeRunState, runState } from "../../src/ops/run-state.ts";
import { registerStep, type StepFunction, unregisterStep } from "../../src/runtime/registry.ts";
import { type RunReport, Worker } from "../../src/runtime/worker.ts";
import type { World } from "../../src/world/types.ts";
import { everyWorld, until, type WorldEnv } from "../helpers/every-world.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

const executed: string[] = [];
const gates = new Map<string, () => void>();

async function first(label: string): Promise<string> {
  executed.push(`first ${label}`);
  return `first ${label}`;
}
async function slow(label: string): Promise<string> {
  executed.push(`slow ${label}`);
  await new Promise<void>((resolve) => gates.set(label, resolve));
  return `slow ${label}`;
}
async function removed(label: string): Promise<string> {
  executed.push(`removed ${label}`);
  return `removed ${label}`;
}

const wf = defineWorkflows("test/missing-step.ts", {
  steps: { first, slow, removed },
  unregistered: ["removed"],
  workflows: {
    sequence: ({ steps }) =>
      async function sequence(label: string) {
        const a = await steps.first(label);
        return [a, await steps.removed(label)];
      },
    inFlight: ({ steps }) =>
      async function inFlight(label: string) {
        const pending = steps.slow(label);
        const a = await steps.first(label);
        const b = await steps.removed(label);
        return [await pending, a, b];
      },
  },
});

const { worlds: WORLDS, stop } = everyWorld("missing_step");
afterAll(stop);

describe.each(Object.keys(WORLDS))("on the %s World", (name) => {
  let env: WorldEnv;
  let world: World;
  let worker: Worker;
  const reports: RunReport[] = [];
  const warnings: string[] = [];

  beforeEach(async () => {
    executed.length = 0;
    gates.clear();
    reports.length = 0;
    warnings.length = 0;
    process.env.STEPWISE_WORKER = "0";
    env = await WORLDS[name as keyof typeof WORLDS]();
    world = env.world;
    configure({ world });
    // Registered for the previous World's test: this one starts without it.
    unregisterStep(wf.stepIds.removed);
    worker = new Worker({
      world,
      onRun: (report) => reports.push(report),
      warn: (message) => warnings.push(message),
    });
    worker.start();
  });
  afterEach(async () => {
    for (const open of gates.values()) open();
    await worker.stop();
    delete process.env.STEPWISE_WORKER;
    await shutdown();
    env.cleanup();
  });

  const types = async (runId: string) => (await world.events.list(runId)).map((event) => event.type);

  it("waits for a worker with the step instead of failing, and completes once one has it", async () => {
    const run = await start(wf.sequence, ["s"]);
    await until("the run to be handed back for code", () => reports.some((r) => r.outcome === "deferred"));
    const record = await world.runs.get(run.runId);
    expect(record.status).toBe("running");
    expect(await types(run.runId)).toEqual([
      "run_created",
      "run_started",
      "step_started",
      "step_completed",
      "step_unavailable",
    ]);
    const unavailable = (await world.events.list(run.runId)).at(-1);
    expect(unavailable?.data).toEqual({ stepId: expect.any(String), stepName: wf.stepIds.removed });
    expect(warnings.join("\n")).toContain(
      `calls step \`${wf.stepIds.removed}\`, which is not in this worker's code`,
    );
    const state = await runState(world, await world.runs.get(run.runId));
    expect(describeRunState(state)).toBe(
      `waiting for a worker that has step ${wf.stepIds.removed} (not in the code of the worker that took it)`,
    );
    // The worker looks again (after 1 s): still no step, and nothing more recorded.
    await until("a second look", () => reports.filter((r) => r.outcome === "deferred").length >= 2, 10_000);
    expect((await types(run.runId)).filter((type) => type === "step_unavailable")).toHaveLength(1);

    // A worker that has the step: here, the same one once the step is registered.
    registerStep(wf.stepIds.removed, removed as StepFunction);
    expect(await run.returnValue).toEqual(["first s", "removed s"]);
    expect(executed).toEqual(["first s", "removed s"]);
    expect((await types(run.runId)).slice(4)).toEqual([
      "step_unavailable",
      "step_started",
      "step_completed",
      "run_completed",
    ]);
  }, 40_000);

  it("lets a step in flight finish and records it before handing the run back", async () => {
    const run = await start(wf.inFlight, ["f"]);
    await until("the run to record that it waits for code", async () =>
      (await types(run.runId)).includes("step_unavailable"),
    );
    // The slow step still runs: the worker holds the run until it ends.
    expect(reports).toEqual([]);
    expect((await world.runs.get(run.runId)).lease).toBeDefined();
    gates.get("f")?.();
    await until("the run to be handed back for code", () => reports.some((r) => r.outcome === "deferred"));
    // The slow step's result is recorded. The missing step's start stays in the log before it (a
    // replay must meet the call before that result): it was never executed, and a worker that has
    // the step runs it as an interrupted attempt.
    const steps = await world.steps.list(run.runId);
    expect(steps.map((step) => [step.stepName, step.status]).sort()).toEqual([
      [wf.stepIds.first, "completed"],
      [wf.stepIds.removed, "running"],
      [wf.stepIds.slow, "completed"],
    ]);
    expect(executed.sort()).toEqual(["first f", "slow f"]);
    registerStep(wf.stepIds.removed, removed as StepFunction);
    expect(await run.returnValue).toEqual(["slow f", "first f", "removed f"]);
    expect(executed.sort()).toEqual(["first f", "removed f", "slow f"]);
  }, 40_000);
});
