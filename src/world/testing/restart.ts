/**
 * Conformance: restarts. `run_restarted` is the one event an ended run's log takes, as the first
 * event of an append; the run goes back to `pending` with its end cleared, the kept hooks it names
 * listen again (refused, writing nothing, when another run's hook holds a token meanwhile) and the
 * kept waits wait again. Concurrent restarts are fenced on the sequence number like any append;
 * a restart request in the inbox keeps the generation it stops.
 */
import { describe, expect, it } from "vitest";
import {
  ConflictError,
  HookTokenConflictError,
  RunFinishedError,
  SequenceConflictError,
} from "../../errors/world.ts";
import type { NewEvent } from "../events.ts";
import { appendNext, expectReject, hookCreated, snapshot, startedRun, utf8 } from "./fixtures.ts";
import type { WorldContext } from "./harness.ts";

const restarted = (data: Partial<Extract<NewEvent, { type: "run_restarted" }>["data"]> = {}): NewEvent => ({
  type: "run_restarted",
  data: { generation: 2, fromCall: 0, ...data },
});

export function describeRestart(t: WorldContext): void {
  describe("restart", () => {
    it("run_restarted follows the end of a run: pending again, its end cleared, a start message in the same append", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [{ type: "run_completed", data: {}, payload: utf8('"done"') }]);
      await expectReject(
        appendNext(t.world, run.runId, [{ type: "run_started", data: {} }]),
        RunFinishedError,
        true,
      );
      const result = await appendNext(t.world, run.runId, [restarted()], {
        enqueue: [{ runId: run.runId, kind: "start" }],
      });
      expect(result.seq).toBe(4);
      expect(result.events[0]).toMatchObject({
        seq: 4,
        type: "run_restarted",
        data: { generation: 2, fromCall: 0 },
      });
      expect(result.run.status).toBe("pending");
      const record = await t.world.runs.get(run.runId);
      expect(record.status).toBe("pending");
      expect(record.startedAt).toBeUndefined();
      expect(record.completedAt).toBeUndefined();
      expect(record.output).toBeUndefined();
      expect(record.error).toBeUndefined();
      expect((await t.world.queue.list(run.runId)).filter((m) => m.kind === "start")).toHaveLength(2);
      // The next generation starts and ends like the first; the whole history stays in the log.
      const again = await appendNext(t.world, run.runId, [{ type: "run_started", data: {} }]);
      expect(again.run.status).toBe("running");
      t.expectTime((await t.world.runs.get(run.runId)).startedAt, t.now());
      await appendNext(t.world, run.runId, [{ type: "run_failed", data: {}, payload: utf8('"boom"') }]);
      const failed = await t.world.runs.get(run.runId);
      expect(failed.status).toBe("failed");
      expect(failed.output).toBeUndefined();
      expect((await t.world.events.list(run.runId)).map((event) => event.type)).toEqual([
        "run_created",
        "run_started",
        "run_completed",
        "run_restarted",
        "run_started",
        "run_failed",
      ]);
    });

    it("run_restarted is refused on a run that has not ended, and anywhere but first in an append; nothing is written", async () => {
      const run = await startedRun(t.world);
      const before = await snapshot(t.world, [run.runId]);
      await expectReject(appendNext(t.world, run.runId, [restarted()]), ConflictError);
      await appendNext(t.world, run.runId, [{ type: "run_cancelled", data: {} }]);
      const ended = await snapshot(t.world, [run.runId]);
      await expectReject(
        appendNext(t.world, run.runId, [
          restarted(),
          { type: "run_started", data: {} },
          restarted({ generation: 3 }),
        ]),
        ConflictError,
      );
      expect(await snapshot(t.world, [run.runId])).toEqual(ended);
      expect(before).not.toEqual(ended);
    });

    it("re-arms the kept hooks and waits it names; the others stay ended", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [
        hookCreated("hook_kept", "tok-kept"),
        hookCreated("hook_dropped", "tok-dropped"),
        { type: "wait_created", data: { waitId: "wait_sleep", resumeAt: t.now() + 60_000 } },
        {
          type: "event_wait_created",
          data: { waitId: "wait_event", eventType: "paid", timeoutAt: t.now() + 60_000 },
        },
        { type: "wait_created", data: { waitId: "wait_dropped", resumeAt: t.now() + 60_000 } },
      ]);
      await appendNext(t.world, run.runId, [{ type: "run_cancelled", data: { reason: "restart" } }]);
      expect((await t.world.hooks.list({ runId: run.runId, status: "active" })).length).toBe(0);
      await appendNext(t.world, run.runId, [
        restarted({ fromCall: 4, hooks: ["hook_kept"], waits: ["wait_sleep", "wait_event"] }),
      ]);
      const hook = await t.world.hooks.getByToken("tok-kept");
      expect(hook).toMatchObject({ hookId: "hook_kept", runId: run.runId, status: "active" });
      expect(hook.disposedAt).toBeUndefined();
      expect((await t.world.hooks.get("hook_dropped")).status).toBe("disposed");
      const waits = await t.world.waits.list({ runId: run.runId });
      const byId = new Map(waits.map((wait) => [wait.waitId, wait]));
      expect(byId.get("wait_sleep")).toMatchObject({ status: "waiting", kind: "sleep" });
      expect(byId.get("wait_sleep")?.completedAt).toBeUndefined();
      expect(byId.get("wait_event")).toMatchObject({ status: "waiting", kind: "event", eventType: "paid" });
      expect(byId.get("wait_dropped")?.status).toBe("cancelled");
      // When the next generation ends, they end with it again.
      await appendNext(t.world, run.runId, [{ type: "run_cancelled", data: {} }]);
      expect((await t.world.hooks.get("hook_kept")).status).toBe("disposed");
      expect((await t.world.waits.list({ runId: run.runId, status: "waiting" })).length).toBe(0);
    });

    it("a kept hook whose token another run's hook holds now is refused, naming that run; nothing is written", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [hookCreated("hook_1", "tok-shared")]);
      await appendNext(t.world, run.runId, [{ type: "run_failed", data: {} }]);
      const other = await startedRun(t.world);
      await appendNext(t.world, other.runId, [hookCreated("hook_2", "tok-shared")]);
      const before = await snapshot(t.world, [run.runId, other.runId]);
      const error = await expectReject(
        appendNext(t.world, run.runId, [restarted({ fromCall: 1, hooks: ["hook_1"] })], {
          enqueue: [{ runId: run.runId, kind: "start" }],
        }),
        HookTokenConflictError,
        true,
      );
      expect(error).toMatchObject({ token: "tok-shared", heldByRunId: other.runId });
      expect(await snapshot(t.world, [run.runId, other.runId])).toEqual(before);
    });

    it("two restarts from the same state: one lands, the other gets SequenceConflictError", async () => {
      const run = await startedRun(t.world);
      const ended = await appendNext(t.world, run.runId, [{ type: "run_completed", data: {} }]);
      const outcomes = await Promise.allSettled([
        t.world.events.append({ runId: run.runId, expectedSeq: ended.seq, events: [restarted()] }),
        t.world.events.append({ runId: run.runId, expectedSeq: ended.seq, events: [restarted()] }),
      ]);
      expect(outcomes.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(1);
      const [lost] = outcomes.flatMap((outcome) => (outcome.status === "rejected" ? [outcome.reason] : []));
      expect(SequenceConflictError.is(lost)).toBe(true);
      const types = (await t.world.events.list(run.runId)).map((event) => event.type);
      expect(types.filter((type) => type === "run_restarted")).toHaveLength(1);
    });

    it("a restart request in the inbox keeps the generation it stops", async () => {
      const run = await startedRun(t.world);
      const item = await t.world.inbox.put({ runId: run.runId, kind: "restart", generation: 3 });
      expect(item).toMatchObject({ kind: "restart", generation: 3 });
      expect(await t.world.inbox.list(run.runId)).toEqual([item]);
      const cancel = await t.world.inbox.put({ runId: run.runId, kind: "cancel" });
      expect(cancel.generation).toBeUndefined();
    });
  });
}
