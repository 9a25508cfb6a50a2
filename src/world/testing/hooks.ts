/**
 * Conformance: hooks and their tokens. An active hook holds its token exclusively (across runs and
 * within one run, within one append too); the token is free again once the hook is disposed or its
 * run ends. `getByToken` finds only active hooks.
 */
import { describe, expect, it } from "vitest";
import {
  ConflictError,
  HookNotFoundError,
  HookTokenConflictError,
  NotFoundError,
} from "../../errors/world.ts";
import type { NewEvent } from "../events.ts";
import { appendNext, expectReject, hookCreated, snapshot, startedRun, utf8 } from "./fixtures.ts";
import type { WorldContext } from "./harness.ts";

export function describeHooks(t: WorldContext): void {
  describe("hooks", () => {
    it("hook_created makes an active hook, found by id and by token", async () => {
      const run = await startedRun(t.world);
      const meta = { label: "approval", n: 2 };
      const result = await appendNext(t.world, run.runId, [
        { type: "hook_created", data: { hookId: "hook_1", token: "tok-1", kind: "webhook", meta } },
      ]);
      const expected = {
        runId: run.runId,
        hookId: "hook_1",
        token: "tok-1",
        kind: "webhook",
        status: "active",
        meta,
        createdAt: result.events[0]?.createdAt,
      };
      expect(await t.world.hooks.get("hook_1")).toEqual(expected);
      expect(await t.world.hooks.getByToken("tok-1")).toEqual(expected);
    });

    it("a hook without meta has none", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [hookCreated("hook_1", "tok-1")]);
      const hook = await t.world.hooks.get("hook_1");
      expect(hook.meta).toBeUndefined();
      expect(hook.kind).toBe("hook");
      expect(hook.disposedAt).toBeUndefined();
    });

    it("get of an unknown hook throws NotFoundError; getByToken of an unknown token HookNotFoundError", async () => {
      await expectReject(t.world.hooks.get("hook_missing"), NotFoundError, true);
      const error = await expectReject(t.world.hooks.getByToken("nobody"), HookNotFoundError, true);
      expect(error.token).toBe("nobody");
    });

    it("a token held by another run's active hook is refused, naming that run, and nothing is written", async () => {
      const holder = await startedRun(t.world);
      const other = await startedRun(t.world);
      await appendNext(t.world, holder.runId, [hookCreated("hook_1", "shared")]);
      const before = await snapshot(t.world, [holder.runId, other.runId]);
      const error = await expectReject(
        appendNext(t.world, other.runId, [
          { type: "step_started", data: { stepId: "s", stepName: "n", attempt: 1 } },
          hookCreated("hook_2", "shared"),
        ]),
        HookTokenConflictError,
        true,
      );
      expect(error).toMatchObject({ token: "shared", heldByRunId: holder.runId });
      expect(await snapshot(t.world, [holder.runId, other.runId])).toEqual(before);
      await expectReject(t.world.hooks.get("hook_2"), NotFoundError);
    });

    it("a token held by the same run's active hook is refused too, also within one append", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [hookCreated("hook_1", "mine")]);
      const error = await expectReject(
        appendNext(t.world, run.runId, [hookCreated("hook_2", "mine")]),
        HookTokenConflictError,
        true,
      );
      expect(error.heldByRunId).toBe(run.runId);
      await expectReject(
        appendNext(t.world, run.runId, [hookCreated("hook_3", "twice"), hookCreated("hook_4", "twice")]),
        HookTokenConflictError,
        true,
      );
      expect((await t.world.runs.get(run.runId)).seq).toBe(3);
      await expectReject(t.world.hooks.getByToken("twice"), HookNotFoundError);
    });

    it("a hook id can be used only once", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [
        hookCreated("hook_1", "a"),
        { type: "hook_disposed", data: { hookId: "hook_1" } },
      ]);
      await expectReject(appendNext(t.world, run.runId, [hookCreated("hook_1", "b")]), ConflictError, true);
      const other = await startedRun(t.world);
      await expectReject(appendNext(t.world, other.runId, [hookCreated("hook_1", "c")]), ConflictError, true);
    });

    it("hook_disposed frees the token: getByToken no longer finds it, and another hook may take it", async () => {
      const run = await startedRun(t.world);
      const other = await startedRun(t.world);
      await appendNext(t.world, run.runId, [hookCreated("hook_1", "reuse")]);
      await t.advance(10);
      const disposed = await appendNext(t.world, run.runId, [
        { type: "hook_disposed", data: { hookId: "hook_1" } },
      ]);
      expect(await t.world.hooks.get("hook_1")).toMatchObject({
        status: "disposed",
        disposedAt: disposed.events[0]?.createdAt,
      });
      await expectReject(t.world.hooks.getByToken("reuse"), HookNotFoundError, true);
      await appendNext(t.world, other.runId, [hookCreated("hook_2", "reuse")]);
      expect((await t.world.hooks.getByToken("reuse")).hookId).toBe("hook_2");
    });

    it("a token may be freed and taken again within one append", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [hookCreated("hook_1", "cycle")]);
      await appendNext(t.world, run.runId, [
        { type: "hook_disposed", data: { hookId: "hook_1" } },
        hookCreated("hook_2", "cycle"),
      ]);
      expect((await t.world.hooks.getByToken("cycle")).hookId).toBe("hook_2");
    });

    it("hook_disposed of another run's hook changes nothing", async () => {
      const a = await startedRun(t.world);
      const b = await startedRun(t.world);
      await appendNext(t.world, a.runId, [hookCreated("hook_a", "tok-a")]);
      await appendNext(t.world, b.runId, [{ type: "hook_disposed", data: { hookId: "hook_a" } }]);
      expect((await t.world.hooks.getByToken("tok-a")).hookId).toBe("hook_a");
    });

    for (const ending of ["run_completed", "run_failed", "run_cancelled"] as const) {
      it(`${ending} disposes all the run's active hooks and frees their tokens`, async () => {
        const run = await startedRun(t.world);
        const other = await startedRun(t.world);
        await appendNext(t.world, run.runId, [hookCreated("hook_1", "t1"), hookCreated("hook_2", "t2")]);
        await appendNext(t.world, run.runId, [{ type: "hook_disposed", data: { hookId: "hook_1" } }]);
        await appendNext(t.world, other.runId, [hookCreated("hook_other", "t-other")]);
        const disposedAt = (await t.world.hooks.get("hook_1")).disposedAt;
        await t.advance(10);
        const end = await appendNext(t.world, run.runId, [
          { type: ending, data: {}, payload: utf8("x") } as NewEvent,
        ]);
        const endAt = end.events[0]?.createdAt;
        expect(await t.world.hooks.get("hook_1")).toMatchObject({ status: "disposed", disposedAt });
        expect(await t.world.hooks.get("hook_2")).toMatchObject({ status: "disposed", disposedAt: endAt });
        expect((await t.world.hooks.getByToken("t-other")).status).toBe("active");
        await expectReject(t.world.hooks.getByToken("t2"), HookNotFoundError, true);
        await appendNext(t.world, other.runId, [hookCreated("hook_3", "t2")]);
        expect((await t.world.hooks.getByToken("t2")).runId).toBe(other.runId);
      });
    }

    it("lists a run's hooks in creation order, all hooks newest first, filtered by status and limited", async () => {
      const a = await startedRun(t.world);
      const b = await startedRun(t.world);
      await appendNext(t.world, a.runId, [hookCreated("hook_a1", "a1")]);
      await appendNext(t.world, b.runId, [hookCreated("hook_b1", "b1")]);
      await appendNext(t.world, a.runId, [
        hookCreated("hook_a2", "a2"),
        { type: "hook_disposed", data: { hookId: "hook_a1" } },
      ]);
      const ids = (hooks: { hookId: string }[]) => hooks.map((hook) => hook.hookId);
      expect(ids(await t.world.hooks.list({ runId: a.runId }))).toEqual(["hook_a1", "hook_a2"]);
      expect(ids(await t.world.hooks.list())).toEqual(["hook_a2", "hook_b1", "hook_a1"]);
      expect(ids(await t.world.hooks.list({ status: "active" }))).toEqual(["hook_a2", "hook_b1"]);
      expect(ids(await t.world.hooks.list({ status: "disposed" }))).toEqual(["hook_a1"]);
      expect(ids(await t.world.hooks.list({ runId: a.runId, status: "active" }))).toEqual(["hook_a2"]);
      expect(ids(await t.world.hooks.list({ limit: 1 }))).toEqual(["hook_a2"]);
      expect(ids(await t.world.hooks.list({ runId: "wrun_missing" }))).toEqual([]);
    });
  });
}
