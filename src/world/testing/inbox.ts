/**
 * Conformance: the inbox. `put` stores an item and enqueues an "inbox" message for the run in one
 * transaction, refuses unknown and ended runs (writing nothing), and items leave only through an
 * append's `consumeInbox`.
 */
import { describe, expect, it } from "vitest";
import { RunFinishedError, RunNotFoundError } from "../../errors/world.ts";
import {
  allBytes,
  appendNext,
  createRun,
  expectBytes,
  expectReject,
  snapshot,
  startedRun,
} from "./fixtures.ts";
import type { WorldContext } from "./harness.ts";

export function describeInbox(t: WorldContext): void {
  describe("inbox", () => {
    it('put stores the item and enqueues an "inbox" message for the run', async () => {
      const run = await startedRun(t.world);
      const payload = allBytes();
      const item = await t.world.inbox.put({
        runId: run.runId,
        kind: "hook_payload",
        hookId: "hook_1",
        payload,
      });
      expect(item).toMatchObject({ runId: run.runId, kind: "hook_payload", hookId: "hook_1" });
      expect(item.itemId).toEqual(expect.any(String));
      expectBytes(item.payload, payload);
      t.expectTime(item.createdAt, t.now());
      const [stored] = await t.world.inbox.list(run.runId);
      expect(stored).toEqual(item);
      const inboxMessages = (await t.world.queue.list(run.runId)).filter(
        (message) => message.kind === "inbox",
      );
      expect(inboxMessages).toHaveLength(1);
      expect(inboxMessages[0]?.deliveries).toBe(0);
      t.expectTime(inboxMessages[0]?.availableAt, t.now());
    });

    it("an item without hook or payload has neither", async () => {
      const run = await startedRun(t.world);
      const item = await t.world.inbox.put({ runId: run.runId, kind: "cancel" });
      expect(item.hookId).toBeUndefined();
      expect(item.payload).toBeUndefined();
      expect(await t.world.inbox.list(run.runId)).toEqual([item]);
    });

    it("every put enqueues its own message", async () => {
      const run = await startedRun(t.world);
      await t.world.inbox.put({ runId: run.runId, kind: "cancel" });
      await t.world.inbox.put({ runId: run.runId, kind: "cancel" });
      const inboxMessages = (await t.world.queue.list(run.runId)).filter(
        (message) => message.kind === "inbox",
      );
      expect(inboxMessages).toHaveLength(2);
    });

    it("lists a run's items oldest first", async () => {
      const run = await startedRun(t.world);
      const other = await startedRun(t.world);
      const first = await t.world.inbox.put({ runId: run.runId, kind: "cancel" });
      await t.world.inbox.put({ runId: other.runId, kind: "cancel" });
      const second = await t.world.inbox.put({ runId: run.runId, kind: "hook_payload", hookId: "h" });
      expect((await t.world.inbox.list(run.runId)).map((item) => item.itemId)).toEqual([
        first.itemId,
        second.itemId,
      ]);
    });

    it("put for an unknown run throws RunNotFoundError; list too", async () => {
      await expectReject(
        t.world.inbox.put({ runId: "wrun_missing", kind: "cancel" }),
        RunNotFoundError,
        true,
      );
      await expectReject(t.world.inbox.list("wrun_missing"), RunNotFoundError, true);
      expect(await t.world.queue.nextAvailableAt()).toBeUndefined();
    });

    it("put for an ended run throws RunFinishedError and writes nothing", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [{ type: "run_completed", data: {} }]);
      const before = await snapshot(t.world, [run.runId]);
      const error = await expectReject(
        t.world.inbox.put({ runId: run.runId, kind: "hook_payload", hookId: "h" }),
        RunFinishedError,
        true,
      );
      expect(error).toMatchObject({ runId: run.runId, status: "completed" });
      expect(await snapshot(t.world, [run.runId])).toEqual(before);
    });

    it("items stay until an append takes them", async () => {
      const run = await createRun(t.world);
      const item = await t.world.inbox.put({ runId: run.runId, kind: "cancel" });
      const claimed = await t.world.queue.claim("owner-a", { limit: 10, leaseMs: 60_000 });
      await t.world.queue.ack(
        "owner-a",
        claimed.map((message) => message.messageId),
      );
      expect(await t.world.inbox.list(run.runId)).toEqual([item]);
      await appendNext(t.world, run.runId, [{ type: "run_cancelled", data: {} }], {
        consumeInbox: [item.itemId],
      });
      expect(await t.world.inbox.list(run.runId)).toEqual([]);
    });
  });
}
