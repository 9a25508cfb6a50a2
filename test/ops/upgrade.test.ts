/**
 * `upgradeRun` / `upgradeRuns` (ops/upgrade.ts) in-process, on the memory World and a real SQLite
 * file: version 1 of two workflows leaves runs asleep; version 2 inserts a step before the sleep
 * in one (its runs would diverge) and after it in the other (safe). Only the safe runs move
 * (`run_upgraded`, their version and spec version on the run); the others are reported with their first divergence and their logs stay as they were. Bad input:
 * an unknown run, a finished run, a workflow not in the code, a run a worker holds (busy), and a
 * log that moves between the check and the append (checked again, never appended blindly). The
 * client API's `upgradeRun` does the same with the process's World and code.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, shutdown, start, upgradeRun as upgradeRunFromApi } from "../../src/api/index.ts";
import { type UpgradeOptions, upgradeRun, upgradeRuns } from "../../src/ops/upgrade.ts";
import { DEFAULT_LIMITS } from "../../src/runtime/limits.ts";
import { getWorkflowBundle } from "../../src/runtime/registry.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import { UPGRADED_SPEC_VERSION } from "../../src/world/events.ts";
import { createRun } from "../../src/world/testing/fixtures.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { defineWorkflows } from "../helpers/workflows.ts";

const FILE = "test/ops/upgrade-flows.ts";
const executed: string[] = [];
const steps = {
  a: async (id: string) => {
    executed.push(`a ${id}`);
    return `a-${id}`;
  },
  x: async (id: string) => {
    executed.push(`x ${id}`);
    return `x-${id}`;
  },
  b: async (id: string) => {
    executed.push(`b ${id}`);
    return `b-${id}`;
  },
};

/** Version 1: a, a sleep, b. Version 2 inserts x before the sleep in `early`, after it in `late`. */
function defineVersion(version: 1 | 2) {
  if (version === 1) {
    return defineWorkflows(FILE, {
      steps,
      workflows: {
        early: ({ steps, api }) =>
          async function early(id: string) {
            const first = await steps.a(id);
            await api.sleep("1h");
            return [first, await steps.b(id)];
          },
        late: ({ steps, api }) =>
          async function late(id: string) {
            const first = await steps.a(id);
            await api.sleep("1h");
            return [first, await steps.b(id)];
          },
      },
    });
  }
  return defineWorkflows(FILE, {
    steps,
    workflows: {
      early: ({ steps, api }) =>
        async function early(id: string) {
          const first = await steps.a(id);
          const inserted = await steps.x(id);
          await api.sleep("1h");
          return [first, inserted, await steps.b(id)];
        },
      late: ({ steps, api }) =>
        async function late(id: string) {
          const first = await steps.a(id);
          await api.sleep("1h");
          const inserted = await steps.x(id);
          return [first, inserted, await steps.b(id)];
        },
    },
  });
}

let world: World;
let dir: string | undefined;
const options = (extra: Partial<UpgradeOptions> = {}): UpgradeOptions => ({
  world,
  payloads: createPayloadCodec(),
  limits: DEFAULT_LIMITS,
  ...extra,
});

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("condition not reached");
}

/** Starts version-1 runs of both workflows and waits until all of them sleep. */
async function asleepOnVersion1(): Promise<{ early: string; late: string; v1: string }> {
  const v1 = defineVersion(1);
  const early = (await start(v1.early, ["e"])).runId;
  const late = (await start(v1.late, ["l"])).runId;
  await until(async () => (await world.waits.list({ status: "waiting" })).length === 2);
  // Not held: the worker let go of the sleeping runs.
  await until(async () => (await world.runs.get(early)).lease === undefined);
  await until(async () => (await world.runs.get(late)).lease === undefined);
  return { early, late, v1: getWorkflowBundle(v1.early.workflowId)?.hash ?? "" };
}

for (const kind of ["memory", "local"] as const) {
  describe(`upgrade on the ${kind} World`, () => {
    beforeEach(() => {
      executed.length = 0;
      if (kind === "memory") world = createMemoryWorld();
      else {
        dir = mkdtempSync(join(tmpdir(), "stepwise-upgrade-"));
        world = createLocalWorld({ dataDir: dir });
      }
      configure({ world, worker: { holdMs: 0 } });
    });
    afterEach(async () => {
      await shutdown();
      await world.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    });

    it("moves only the runs whose logs replay against the new code; the others are listed with their divergence", async () => {
      const { early, late, v1 } = await asleepOnVersion1();
      const v2 = defineVersion(2);
      const v2Hash = getWorkflowBundle(v2.late.workflowId)?.hash;
      expect(v2Hash).not.toBe(v1);
      const earlyBefore = await world.events.list(early);

      // A dry run writes nothing.
      const dry = await upgradeRuns(options({ dryRun: true }), {
        workflows: [v2.early.workflowId, v2.late.workflowId],
      });
      expect(dry.byVerdict).toMatchObject({ safe: 1, diverged: 1 });
      expect((await world.runs.get(late)).bundleHash).toBe(v1);

      const summary = await upgradeRuns(options(), { workflows: [v2.early.workflowId, v2.late.workflowId] });
      expect(summary.checked).toBe(2);
      expect(summary.byVerdict).toMatchObject({ upgraded: 1, diverged: 1 });
      const moved = summary.results.find((result) => result.runId === late);
      expect(moved).toMatchObject({ verdict: "upgraded", fromHash: v1, toHash: v2Hash });
      const refused = summary.results.find((result) => result.runId === early);
      expect(refused).toMatchObject({ verdict: "diverged", fromHash: v1, toHash: v2Hash });
      expect(refused?.divergence).toMatchObject({ logHas: expect.stringContaining("sleep") });
      expect(refused?.divergence?.codeMakes).toContain("x");
      expect(refused?.message).toMatch(/diverges at event \d+: the log has .*, the code makes .*x/);

      // The diverging run's log is exactly as it was; the moved one ends with run_upgraded.
      expect(await world.events.list(early)).toEqual(earlyBefore);
      expect((await world.runs.get(early)).bundleHash).toBe(v1);
      const lateLog = await world.events.list(late);
      expect(lateLog.at(-1)).toMatchObject({ type: "run_upgraded", data: { fromHash: v1, toHash: v2Hash } });
      const after = await world.runs.get(late);
      expect(after).toMatchObject({ bundleHash: v2Hash, specVersion: UPGRADED_SPEC_VERSION });
      expect(after.lease).toBeUndefined();
      // The version stored for workers to load.
      expect((await world.bundles.get(v2Hash ?? "")).workflowIds).toContain(v2.late.workflowId);

      // Again: already current (and the diverging one still diverges).
      const again = await upgradeRun(options(), late);
      expect(again).toMatchObject({ verdict: "current" });
      expect((await world.events.list(late)).length).toBe(lateLog.length);
    });

    it("the client API's upgradeRun moves a run with this process's World and code", async () => {
      const { early, late, v1 } = await asleepOnVersion1();
      const v2 = defineVersion(2);
      const v2Hash = getWorkflowBundle(v2.late.workflowId)?.hash;
      expect(await upgradeRunFromApi(late, { dryRun: true })).toMatchObject({ verdict: "safe" });
      expect((await world.runs.get(late)).bundleHash).toBe(v1);
      expect(await upgradeRunFromApi(late)).toMatchObject({
        verdict: "upgraded",
        fromHash: v1,
        toHash: v2Hash,
      });
      expect((await world.runs.get(late)).bundleHash).toBe(v2Hash);
      expect(await upgradeRunFromApi(early)).toMatchObject({ verdict: "diverged" });
      expect((await world.runs.get(early)).bundleHash).toBe(v1);
    });

    it("refuses an unknown run, a finished run and a workflow not in the code, writing nothing", async () => {
      defineVersion(2);
      expect(await upgradeRun(options(), "wrun_nope")).toMatchObject({
        verdict: "not-found",
        message: expect.stringContaining("no run with id wrun_nope"),
      });
      const gone = await createRun(world, {
        workflowName: "workflow//gone.ts//gone",
        bundleHash: "c".repeat(64),
      });
      const goneBefore = await world.events.list(gone.runId);
      expect(await upgradeRun(options(), gone.runId)).toMatchObject({
        verdict: "not-loaded",
        message: expect.stringContaining("not in the loaded code"),
      });
      expect(await world.events.list(gone.runId)).toEqual(goneBefore);
      const goneAfter = await world.runs.get(gone.runId);
      expect(goneAfter.bundleHash).toBe("c".repeat(64));
      expect(goneAfter.lease).toBeUndefined();

      const ended = await createRun(world, { workflowName: `workflow//${FILE}//late` });
      await world.events.append({
        runId: ended.runId,
        expectedSeq: 1,
        events: [{ type: "run_cancelled", data: {} }],
      });
      expect(await upgradeRun(options(), ended.runId)).toMatchObject({
        verdict: "ended",
        message: expect.stringContaining("has ended (cancelled)"),
      });
      expect((await world.events.list(ended.runId)).length).toBe(2);
    });

    it("waits for a worker that holds the run, then reports it busy and writes nothing", async () => {
      const { late } = await asleepOnVersion1();
      defineVersion(2);
      const taken = await world.runs.acquire(late, "some-worker", 60_000);
      expect(taken.acquired).toBe(true);
      const before = await world.events.list(late);
      const began = Date.now();
      const result = await upgradeRun(options({ busyWaitMs: 300 }), late);
      expect(result).toMatchObject({ verdict: "busy", message: expect.stringContaining("driving the run") });
      expect(Date.now() - began).toBeGreaterThanOrEqual(300);
      expect(await world.events.list(late)).toEqual(before);
      expect((await world.runs.get(late)).lease?.owner).toBe("some-worker");
    });

    it("checks a run again when its log moved between the check and the append", async () => {
      const { late } = await asleepOnVersion1();
      defineVersion(2);
      // The log moves (an append without the lease: a pause recorded by hand) right after the
      // upgrade has read it, once.
      let reads = 0;
      const moving: World = {
        ...world,
        events: {
          ...world.events,
          list: async (runId, listOptions) => {
            const events = await world.events.list(runId, listOptions);
            reads += 1;
            if (reads === 1) {
              const run = await world.runs.get(runId);
              await world.events.append({
                runId,
                expectedSeq: run.seq,
                events: [{ type: "run_paused", data: {} }],
              });
            }
            return events;
          },
        },
      };
      const result = await upgradeRun(options({ world: moving }), late);
      expect(result.verdict).toBe("upgraded");
      expect(reads).toBe(2);
      const log = await world.events.list(late);
      expect(log.map((event) => event.type).slice(-2)).toEqual(["run_paused", "run_upgraded"]);
    });
  });
}
