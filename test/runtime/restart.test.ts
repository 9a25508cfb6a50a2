/**
 * `run.restart()` on the memory World, in process: a restart from a step re-executes that step and
 * the ones after it and not the ones before; a full restart re-executes everything; a running run
 * is stopped first; a step beside the restarted one keeps its outcome; restarts nest; bad restart
 * points and unknown runs are refused with nothing written; a restarted run replays from its log.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, getRun, resumeHook, shutdown, start } from "../../src/api/index.ts";
import {
  InvalidRestartPointError,
  RestartConflictError,
  RestartStepNotFoundError,
} from "../../src/errors/restart.ts";
import { RunNotFoundError } from "../../src/errors/world.ts";
import { RunMachine } from "../../src/runtime/machine.ts";
import { getWorkflowBundle } from "../../src/runtime/registry.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import { places } from "../../src/serde/places.ts";
import type { World } from "../../src/world/types.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

let world: World;
const calls: string[] = [];
let gate: { promise: Promise<void>; open: () => void } | undefined;

function newGate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

beforeEach(() => {
  world = createMemoryWorld();
  configure({ world, worker: { holdMs: 0 } });
  calls.length = 0;
  gate = undefined;
});
afterEach(async () => {
  gate?.open();
  await shutdown();
});

const count = (name: string): number => calls.filter((call) => call === name).length;

const wf = defineWorkflows("test/restart.ts", {
  steps: {
    prepare: async (id: string) => {
      calls.push("prepare");
      return `prepared-${id}`;
    },
    charge: async (what: string) => {
      calls.push("charge");
      if (gate !== undefined) await gate.promise;
      return `charged-${what}`;
    },
    ship: async (what: string) => {
      calls.push("ship");
      return `shipped-${what}`;
    },
    slow: async () => {
      calls.push("slow");
      await new Promise((resolve) => setTimeout(resolve, 60));
      return "slow";
    },
  },
  workflows: {
    order: ({ steps }) =>
      async function order(id: string) {
        const prepared = await steps.prepare(id);
        const charged = await steps.charge(prepared);
        const again = await steps.charge(`${prepared}+`);
        return { charged, again, shipped: await steps.ship(charged) };
      },
    beside: ({ steps }) =>
      async function beside() {
        const [slow, charged] = await Promise.all([steps.slow(), steps.charge("x")]);
        return { slow, charged, shipped: await steps.ship(charged) };
      },
    approval: ({ steps, api }) =>
      async function approval(id: string) {
        const hook = api.createHook<{ ok: boolean }>({ token: `approval-${id}` });
        const prepared = await steps.prepare(id);
        const charged = await steps.charge(prepared);
        const decision = await hook;
        return { charged, decision };
      },
  },
});

describe("restart", () => {
  it("from a step re-executes that step and the ones after it, not the ones before", async () => {
    const run = await start(wf.order, ["o1"]);
    const first = await run.returnValue;
    expect(calls).toEqual(["prepare", "charge", "charge", "ship"]);
    const stepsBefore = await world.steps.list(run.runId);
    const restarted = await run.restart({ from: { step: "charge" } });
    expect(restarted).toMatchObject({ runId: run.runId, generation: 2, keptCalls: 1, occurrence: 1 });
    expect(restarted.step).toBe(wf.stepIds.charge);
    expect(await run.returnValue).toEqual(first);
    expect(calls).toEqual(["prepare", "charge", "charge", "ship", "charge", "charge", "ship"]);
    const types = (await world.events.list(run.runId)).map((event) => event.type);
    expect(types.filter((type) => type === "run_restarted")).toHaveLength(1);
    expect(types.filter((type) => type === "run_started")).toHaveLength(2);
    expect(types.filter((type) => type === "run_completed")).toHaveLength(2);
    // The re-executed steps have ids of their own; the kept one keeps its row.
    const steps = await world.steps.list(run.runId);
    expect(steps).toHaveLength(stepsBefore.length + 3);
    expect(steps.filter((step) => step.stepName === wf.stepIds.prepare)).toHaveLength(1);
    const record = await world.runs.get(run.runId);
    expect(record.status).toBe("completed");
  });

  it("from the second call of a step keeps the first", async () => {
    const run = await start(wf.order, ["o2"]);
    await run.returnValue;
    calls.length = 0;
    await run.restart({ from: { step: "charge", occurrence: 2 } });
    await run.returnValue;
    expect(calls).toEqual(["charge", "ship"]);
  });

  it("from the beginning re-executes everything", async () => {
    const run = await start(wf.order, ["o3"]);
    const first = await run.returnValue;
    calls.length = 0;
    expect(await run.restart()).toMatchObject({ generation: 2, keptCalls: 0 });
    expect(await run.returnValue).toEqual(first);
    expect(calls).toEqual(["prepare", "charge", "charge", "ship"]);
  });

  it("nests: a restarted run restarts again, from a step of any generation", async () => {
    const run = await start(wf.order, ["o4"]);
    await run.returnValue;
    await run.restart({ from: { step: "charge", occurrence: 2 } });
    await run.returnValue;
    calls.length = 0;
    // prepare and the first charge were kept from generation 1; restart from that charge.
    expect(await run.restart({ from: { step: "charge" } })).toMatchObject({ generation: 3, keptCalls: 1 });
    await run.returnValue;
    expect(calls).toEqual(["charge", "charge", "ship"]);
    calls.length = 0;
    await run.restart({ from: { step: "ship" } });
    await run.returnValue;
    expect(calls).toEqual(["ship"]);
    const generations = (await world.events.list(run.runId)).flatMap((event) =>
      event.type === "run_restarted" ? [event.data.generation] : [],
    );
    expect(generations).toEqual([2, 3, 4]);
  });

  it("keeps the outcome of a call made before the restart point that ended after it", async () => {
    const run = await start(wf.beside, []);
    const first = await run.returnValue;
    const log = await world.events.list(run.runId);
    const order = log.flatMap((event) =>
      event.type === "step_completed" || event.type === "step_started" ? [event.type] : [],
    );
    // slow started first and completed last: its outcome is recorded after charge started.
    expect(order).toEqual([
      "step_started",
      "step_started",
      "step_completed",
      "step_completed",
      "step_started",
      "step_completed",
    ]);
    calls.length = 0;
    await run.restart({ from: { step: "charge" } });
    expect(await run.returnValue).toEqual(first);
    expect(calls).toEqual(["charge", "ship"]);
  });

  it("stops a running run first (its blocked step aborted), then runs it again", async () => {
    gate = newGate();
    const run = await start(wf.order, ["o5"]);
    for (let i = 0; i < 400 && count("charge") === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await run.status).toBe("running");
    const blocked = gate;
    gate = undefined; // the charge executed again does not block
    await run.restart({ from: { step: "charge" } });
    const result = await run.returnValue;
    blocked.open();
    expect(result).toMatchObject({ charged: "charged-prepared-o5" });
    expect(count("prepare")).toBe(1);
    const log = await world.events.list(run.runId);
    const stop = log.find((event) => event.type === "run_cancelled");
    expect(stop?.data).toEqual({ reason: "restart" });
    expect(log[log.indexOf(stop as never) + 1]?.type).toBe("run_restarted");
  });

  it("re-arms a kept hook that was still listening, and delivers to it after the restart", async () => {
    const run = await start(wf.approval, ["a1"]);
    for (let i = 0; i < 400 && count("charge") === 0; i++) await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 400 && (await world.steps.list(run.runId)).some((s) => s.status !== "completed"); i++)
      await new Promise((r) => setTimeout(r, 5));
    // The run waits on its hook; restart it from charge: the hook (call 0) is kept.
    await run.restart({ from: { step: "charge" } });
    for (let i = 0; i < 400 && count("charge") < 2; i++) await new Promise((r) => setTimeout(r, 5));
    const hooks = await world.hooks.list({ runId: run.runId });
    expect(hooks).toHaveLength(1);
    expect(hooks[0]?.status).toBe("active");
    await resumeHook("approval-a1", { ok: true });
    expect(await run.returnValue).toEqual({ charged: "charged-prepared-a1", decision: { ok: true } });
    expect(calls).toEqual(["prepare", "charge", "charge"]);
  });

  it("refuses a kept hook whose token another run took meanwhile, writing nothing", async () => {
    const run = await start(wf.approval, ["a2"]);
    for (let i = 0; i < 400 && count("charge") === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await run.cancel();
    const other = await start(wf.approval, ["a2"]); // same token, free since the first run ended
    for (
      let i = 0;
      i < 400 && (await world.hooks.list({ runId: other.runId, status: "active" })).length === 0;
      i++
    )
      await new Promise((r) => setTimeout(r, 5));
    const before = await world.events.list(run.runId);
    const error = await run.restart({ from: { step: "charge" } }).catch((e: unknown) => e);
    expect(RestartConflictError.is(error)).toBe(true);
    expect(error).toMatchObject({ reason: "hook-token-taken" });
    expect((error as Error).message).toContain(`run ${other.runId} holds now`);
    expect(await world.events.list(run.runId)).toEqual(before);
    // From the beginning nothing is kept, so nothing clashes.
    await run.restart();
    await other.cancel();
  });

  it("refuses a step the run never called, listing the steps it did call; nothing is written", async () => {
    const run = await start(wf.order, ["o6"]);
    await run.returnValue;
    const before = await world.events.list(run.runId);
    const error = await run.restart({ from: { step: "refund" } }).catch((e: unknown) => e);
    expect(RestartStepNotFoundError.is(error)).toBe(true);
    expect((error as Error).message).toContain("the steps it called are: prepare, charge, ship");
    expect(error).toMatchObject({
      calledSteps: ["prepare", "charge", "ship"],
      code: "RESTART_STEP_NOT_FOUND",
    });
    const tooFar = await run.restart({ from: { step: "charge", occurrence: 3 } }).catch((e: unknown) => e);
    expect((tooFar as Error).message).toContain('called step "charge" 2 times');
    const bad = await run.restart({ from: { step: "charge", occurrence: 0 } }).catch((e: unknown) => e);
    expect(InvalidRestartPointError.is(bad)).toBe(true);
    expect(await world.events.list(run.runId)).toEqual(before);
    expect(await run.status).toBe("completed");
  });

  it("of an unknown run is a RunNotFoundError", async () => {
    const error = await getRun("no-such-run")
      .restart()
      .catch((e: unknown) => e);
    expect(RunNotFoundError.is(error)).toBe(true);
  });

  it("of the same run by two calls at once: one lands, the other gets RestartConflictError", async () => {
    const run = await start(wf.order, ["o7"]);
    await run.returnValue;
    const outcomes = await Promise.allSettled([run.restart(), run.restart()]);
    const won = outcomes.filter((outcome) => outcome.status === "fulfilled");
    const lost = outcomes.flatMap((outcome) => (outcome.status === "rejected" ? [outcome.reason] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(RestartConflictError.is(lost[0])).toBe(true);
    expect(lost[0]).toMatchObject({ reason: "restarted-meanwhile" });
    await run.returnValue;
    const restarts = (await world.events.list(run.runId)).filter((event) => event.type === "run_restarted");
    expect(restarts).toHaveLength(1);
  });

  it("a restart request left for an earlier generation does not stop the new one", async () => {
    const run = await start(wf.order, ["o8"]);
    await run.returnValue;
    gate = newGate();
    await run.restart({ from: { step: "charge" } });
    for (let i = 0; i < 400 && count("charge") < 3; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await run.status).toBe("running");
    // What a restart that lost the race leaves behind when it asks after the winner's restart landed.
    await world.inbox.put({ runId: run.runId, kind: "restart", generation: 1 });
    for (let i = 0; i < 400 && (await world.inbox.list(run.runId)).length > 0; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(await world.inbox.list(run.runId)).toEqual([]);
    gate.open();
    expect(await run.returnValue).toMatchObject({ charged: "charged-prepared-o8" });
    const types = (await world.events.list(run.runId)).map((event) => event.type);
    expect(types.filter((type) => type === "run_cancelled")).toHaveLength(0);
  });

  it("replays from its log alone (a fresh worker) without divergence", async () => {
    const run = await start(wf.beside, []);
    await run.returnValue;
    await run.restart({ from: { step: "charge" } });
    await run.returnValue;
    await run.restart({ from: { step: "ship" } });
    const result = await run.returnValue;
    const record = await world.runs.get(run.runId);
    const log = await world.events.list(run.runId);
    const payloads = createPayloadCodec();
    const bundle = getWorkflowBundle(record.workflowName);
    if (bundle === undefined) throw new Error("workflow not registered");
    const machine = new RunMachine({
      run: {
        runId: record.runId,
        workflowName: record.workflowName,
        createdAt: record.createdAt,
        seed: record.seed,
      },
      workflowId: record.workflowName,
      bundle,
      input: payloads.decode(record, places.runInput, record.input),
      payloads,
      scope: { runId: record.runId, encrypted: record.encrypted, specVersion: record.specVersion },
      payloadBytes: record.payloadBytes,
      limits: { maxPayloadBytes: 1 << 30, maxRunBytes: 1 << 40 },
    });
    // Replay the log as it stood before the last generation ended: the same calls, no divergence.
    const lastEnd = log.findLastIndex((event) => event.type === "run_completed");
    await machine.replay(log.slice(0, lastEnd), Date.now());
    expect(machine.fatal).toBeUndefined();
    expect(machine.settlement?.ok).toBe(true);
    expect(machine.generation).toBe(3);
    expect(machine.takeOutbox()).toEqual([]);
    expect(result).toMatchObject({ charged: "charged-x" });
  });
});
