/**
 * The status `inspect` shows a person, computed from the World's records: a running run that no
 * worker holds and that waits on a sleep is `sleeping` (until when), on a hook `waiting` (for which
 * token, and until when if a sleep races it), on a step's next attempt `retrying`; a run a worker
 * holds is `running`; the rest are shown as stored. Checked on the memory and local Worlds, and
 * through `inspect` (table and JSON rows alike).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inspect } from "../../src/ops/inspect.ts";
import { describeProgress, describeRunState, runState } from "../../src/ops/run-state.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";
import {
  appendNext,
  createRun,
  hookCreated,
  startedRun,
  stepStarted,
} from "../../src/world/testing/fixtures.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";

const DAY = 86_400_000;
const codec = createPayloadCodec();

for (const kind of ["memory", "local"] as const) {
  describe(`run state on the ${kind} World`, () => {
    let world: World;
    let dir: string | undefined;
    beforeEach(() => {
      if (kind === "memory") world = createMemoryWorld();
      else {
        dir = mkdtempSync(join(tmpdir(), "stepwise-run-state-"));
        world = createLocalWorld({ dataDir: dir });
      }
    });
    afterEach(async () => {
      await world.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it("a run asleep is sleeping, until its sleep ends", async () => {
      const run = await startedRun(world, { workflowName: "workflow//workflows/x.ts//napper" });
      const resumeAt = Date.UTC(2031, 0, 2, 3, 4, 5);
      await appendNext(world, run.runId, [{ type: "wait_created", data: { waitId: "wait_1", resumeAt } }]);
      const state = await runState(world, await world.runs.get(run.runId));
      expect(state).toEqual({ status: "sleeping", until: resumeAt });
      expect(describeRunState(state)).toBe("sleeping until 2031-01-02T03:04:05Z");
    });

    it("a run on a hook is waiting for its token, until the sleep that races it", async () => {
      const run = await startedRun(world);
      await appendNext(world, run.runId, [hookCreated("hook_1", "approve-42")]);
      const state = await runState(world, await world.runs.get(run.runId));
      expect(state).toEqual({ status: "waiting", tokens: ["approve-42"] });
      expect(describeRunState(state)).toBe("waiting for hook approve-42");
      const timeout = Date.now() + DAY;
      await appendNext(world, run.runId, [
        { type: "wait_created", data: { waitId: "wait_1", resumeAt: timeout } },
      ]);
      expect(await runState(world, await world.runs.get(run.runId))).toEqual({
        status: "waiting",
        tokens: ["approve-42"],
        until: timeout,
      });
    });

    it("a run whose step waits for its next attempt is retrying, with the attempt and when", async () => {
      const run = await startedRun(world);
      const retryAt = Date.UTC(2031, 0, 1);
      await appendNext(world, run.runId, [
        stepStarted("step_1"),
        { type: "step_retrying", data: { stepId: "step_1", attempt: 1, retryAt } },
      ]);
      const state = await runState(world, await world.runs.get(run.runId));
      expect(state).toEqual({
        status: "retrying",
        until: retryAt,
        step: { stepId: "step_1", stepName: "conformance/step", nextAttempt: 2 },
      });
      expect(describeRunState(state)).toBe("retrying conformance/step (attempt 2 at 2031-01-01T00:00:00Z)");
    });

    it("a run a worker holds is running, whatever it waits for; other statuses are as stored", async () => {
      const run = await startedRun(world);
      await appendNext(world, run.runId, [
        { type: "wait_created", data: { waitId: "wait_1", resumeAt: Date.now() + DAY } },
      ]);
      await world.runs.acquire(run.runId, "worker-1", 60_000);
      expect(await runState(world, await world.runs.get(run.runId))).toEqual({ status: "running" });
      await world.runs.release(run.runId, "worker-1");
      expect((await runState(world, await world.runs.get(run.runId))).status).toBe("sleeping");
      const pending = await createRun(world);
      expect(await runState(world, pending)).toEqual({ status: "pending" });
      await appendNext(world, run.runId, [{ type: "run_cancelled", data: {} }]);
      // A cancelled run's sleep may still be recorded as waiting: the stored status wins.
      expect(await runState(world, await world.runs.get(run.runId))).toEqual({ status: "cancelled" });
    });

    it("a running run with a step executing shows that step as progress", async () => {
      const run = await startedRun(world, { workflowName: "workflow//w.ts//order" });
      await appendNext(world, run.runId, [
        { type: "step_started", data: { stepId: "step_1", stepName: "step//w.ts//charge", attempt: 1 } },
      ]);
      expect(await describeProgress(world, run.runId)).toBe("running step charge (attempt 1)");
    });

    it("inspect runs shows the state in the table and in the JSON rows", async () => {
      const run = await startedRun(world, { workflowName: "workflow//workflows/x.ts//napper" });
      const resumeAt = Date.UTC(2031, 0, 2, 3, 4, 5);
      await appendNext(world, run.runId, [{ type: "wait_created", data: { waitId: "wait_1", resumeAt } }]);
      const listed = await inspect(world, codec, "runs", {});
      expect(listed.table).toMatch(/napper\s+sleeping until 2031-01-02T03:04:05Z/);
      expect(listed.rows[0]).toMatchObject({
        status: "sleeping",
        storedStatus: "running",
        until: "2031-01-02T03:04:05.000Z",
        workflow: "workflow//workflows/x.ts//napper",
      });
      const one = await inspect(world, codec, "runs", { id: run.runId });
      expect(one.table).toMatch(/^status +sleeping until 2031-01-02T03:04:05Z$/m);
      const ids = await inspect(world, codec, "runs", { ids: true });
      expect(ids.table).toContain("workflow//workflows/x.ts//napper");
    });
  });
}
