/**
 * Conformance: pausing. `run_pausing`, `run_paused` and `run_resumed` set the run's status
 * (`pausing`, `paused`, `running`) and nothing else: unlike a run that ends, a paused run keeps
 * its hooks listening (their tokens held), its sleeps and event waits waiting, and the items of its
 * inbox; the status is a filter of `runs.list` like any other. The inbox keeps the control
 * requests (`pause`, `pause_abort`, `resume`) in order with the rest, until an append takes them.
 */
import { describe, expect, it } from "vitest";
import { HookTokenConflictError } from "../../errors/world.ts";
import { appendNext, createRun, expectReject, hookCreated, startedRun } from "./fixtures.ts";
import type { WorldContext } from "./harness.ts";

export function describePause(t: WorldContext): void {
  describe("pause", () => {
    it("pausing, paused and resumed set the status and keep hooks, waits and the inbox", async () => {
      const run = await startedRun(t.world);
      const resumeAt = t.now() + 60_000;
      await appendNext(t.world, run.runId, [
        hookCreated("hook_p1", "tok-paused"),
        { type: "wait_created", data: { waitId: "wait_p1", resumeAt } },
        { type: "event_wait_created", data: { waitId: "wait_p2", eventType: "go", timeoutAt: resumeAt } },
      ]);
      const pausing = await appendNext(t.world, run.runId, [
        { type: "run_pausing", data: { abortSteps: true } },
      ]);
      expect(pausing.run.status).toBe("pausing");
      expect(pausing.events[0]).toMatchObject({ type: "run_pausing", data: { abortSteps: true } });
      const paused = await appendNext(t.world, run.runId, [{ type: "run_paused", data: {} }]);
      expect(paused.run.status).toBe("paused");
      expect((await t.world.runs.get(run.runId)).status).toBe("paused");
      expect((await t.world.runs.get(run.runId)).completedAt).toBeUndefined();

      // Kept as they were: the hook listens (its token stays taken), the waits wait.
      expect((await t.world.hooks.list({ runId: run.runId })).map((hook) => hook.status)).toEqual(["active"]);
      expect((await t.world.hooks.getByToken("tok-paused")).runId).toBe(run.runId);
      const other = await startedRun(t.world);
      await expectReject(
        appendNext(t.world, other.runId, [hookCreated("hook_p2", "tok-paused")]),
        HookTokenConflictError,
      );
      expect((await t.world.waits.list({ runId: run.runId })).map((wait) => wait.status)).toEqual([
        "waiting",
        "waiting",
      ]);
      // An inbox item for a paused run is stored like any other.
      await t.world.inbox.put({ runId: run.runId, kind: "hook_payload", hookId: "hook_p1" });

      const resumed = await appendNext(t.world, run.runId, [{ type: "run_resumed", data: {} }]);
      expect(resumed.run.status).toBe("running");
      expect((await t.world.hooks.list({ runId: run.runId, status: "active" })).length).toBe(1);
      expect((await t.world.inbox.list(run.runId)).map((item) => item.kind)).toEqual(["hook_payload"]);
      expect((await t.world.events.list(run.runId)).map((event) => event.type).slice(-3)).toEqual([
        "run_pausing",
        "run_paused",
        "run_resumed",
      ]);
    });

    it("lists runs by the statuses pausing and paused", async () => {
      const pausing = await startedRun(t.world);
      await appendNext(t.world, pausing.runId, [{ type: "run_pausing", data: {} }]);
      const paused = await startedRun(t.world);
      await appendNext(t.world, paused.runId, [{ type: "run_paused", data: {} }]);
      await createRun(t.world);
      const ids = async (status: "pausing" | "paused" | ("pausing" | "paused")[]) =>
        (await t.world.runs.list({ status })).items.map((run) => run.runId);
      expect(await ids("paused")).toEqual([paused.runId]);
      expect(await ids("pausing")).toEqual([pausing.runId]);
      expect((await ids(["pausing", "paused"])).sort()).toEqual([pausing.runId, paused.runId].sort());
    });

    it("keeps control requests in the inbox in order, and an append takes them", async () => {
      const run = await startedRun(t.world);
      const pause = await t.world.inbox.put({ runId: run.runId, kind: "pause" });
      const abort = await t.world.inbox.put({ runId: run.runId, kind: "pause_abort" });
      const resume = await t.world.inbox.put({ runId: run.runId, kind: "resume" });
      expect((await t.world.inbox.list(run.runId)).map((item) => [item.itemId, item.kind])).toEqual([
        [pause.itemId, "pause"],
        [abort.itemId, "pause_abort"],
        [resume.itemId, "resume"],
      ]);
      await appendNext(t.world, run.runId, [{ type: "run_paused", data: {} }], {
        consumeInbox: [pause.itemId, abort.itemId],
      });
      expect((await t.world.inbox.list(run.runId)).map((item) => item.kind)).toEqual(["resume"]);
    });
  });
}
