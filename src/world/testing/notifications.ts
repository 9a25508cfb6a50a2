/**
 * Conformance: change hints. After a write, subscribers hear about it (the specific hint, or the
 * catch-all `{ type: "any" }` a World may send instead); after unsubscribing they hear nothing.
 */
import { describe, expect, it } from "vitest";
import type { WorldNotification } from "../types.ts";
import { appendNext, createRun, nextNotification, sleep, startedRun, stepStarted, utf8 } from "./fixtures.ts";
import { LONG, type WorldContext } from "./harness.ts";

const isQueue = (n: WorldNotification) => n.type === "queue" || n.type === "any";
const isRun = (runId: string) => (n: WorldNotification) =>
  (n.type === "run" && n.runId === runId) || n.type === "any";
const isInbox = (runId: string) => (n: WorldNotification) =>
  (n.type === "inbox" && n.runId === runId) || n.type === "any";
const isStream = (runId: string, name: string) => (n: WorldNotification) =>
  (n.type === "stream" && n.runId === runId && n.name === name) || n.type === "any";

export function describeNotifications(t: WorldContext): void {
  describe("notifications", () => {
    it("runs.create notifies the run and the queue", async () => {
      const runId = "wrun_notify_create";
      const queue = nextNotification(t.world, isQueue);
      const run = nextNotification(t.world, isRun(runId));
      await createRun(t.world, { runId });
      await Promise.all([queue.promise, run.promise]);
    });

    it("an append notifies the run, and the queue when it enqueues", async () => {
      const created = await startedRun(t.world);
      const run = nextNotification(t.world, isRun(created.runId));
      await appendNext(t.world, created.runId, [stepStarted("a")]);
      await run.promise;
      const queue = nextNotification(t.world, isQueue);
      await appendNext(t.world, created.runId, [], { enqueue: [{ runId: created.runId, kind: "wake" }] });
      await queue.promise;
    });

    it("queue.enqueue, queue.release and inbox.put notify the queue", async () => {
      const run = await startedRun(t.world);
      const afterEnqueue = nextNotification(t.world, isQueue);
      await t.world.queue.enqueue([{ runId: run.runId, kind: "wake" }]);
      await afterEnqueue.promise;
      const [message] = await t.world.queue.claim("owner-a", { limit: 1, leaseMs: LONG });
      const afterRelease = nextNotification(t.world, isQueue);
      await t.world.queue.release("owner-a", message?.messageId ?? "");
      await afterRelease.promise;
      const afterPut = nextNotification(t.world, isQueue);
      await t.world.inbox.put({ runId: run.runId, kind: "cancel" });
      await afterPut.promise;
    });

    it("inbox.put and an acquire that finds the run leased notify the run's inbox", async () => {
      const run = await startedRun(t.world);
      const afterPut = nextNotification(t.world, isInbox(run.runId));
      await t.world.inbox.put({ runId: run.runId, kind: "cancel" });
      await afterPut.promise;
      await t.world.runs.acquire(run.runId, "owner-a", LONG);
      const afterBlocked = nextNotification(t.world, isInbox(run.runId));
      expect((await t.world.runs.acquire(run.runId, "owner-b", LONG)).acquired).toBe(false);
      await afterBlocked.promise;
    });

    it("streams.write notifies the stream", async () => {
      const run = await startedRun(t.world);
      const hint = nextNotification(t.world, isStream(run.runId, "out"));
      await t.world.streams.write(run.runId, "out", [utf8("x")]);
      await hint.promise;
    });

    it("several subscribers all hear; after unsubscribing, nothing more arrives", async () => {
      const heard: WorldNotification[] = [];
      const alsoHeard: WorldNotification[] = [];
      const unsubscribe = t.world.subscribe((notification) => heard.push(notification));
      const unsubscribeOther = t.world.subscribe((notification) => alsoHeard.push(notification));
      const run = await startedRun(t.world);
      await expect.poll(() => heard.some(isRun(run.runId)), { timeout: 3000 }).toBe(true);
      await expect.poll(() => alsoHeard.some(isRun(run.runId)), { timeout: 3000 }).toBe(true);
      unsubscribe();
      await sleep(100);
      const count = heard.length;
      await appendNext(t.world, run.runId, [stepStarted("a")]);
      await t.world.queue.enqueue([{ runId: run.runId, kind: "wake" }]);
      await t.world.streams.write(run.runId, "out", [utf8("x")]);
      await expect.poll(() => alsoHeard.some(isStream(run.runId, "out")), { timeout: 3000 }).toBe(true);
      await sleep(200);
      expect(heard.length).toBe(count);
      unsubscribeOther();
    });

    it("a listener that throws does not stop the others or the write", async () => {
      const heard: WorldNotification[] = [];
      const errors = console.error;
      console.error = () => {};
      const unsubscribeBad = t.world.subscribe(() => {
        throw new Error("listener failure");
      });
      const unsubscribe = t.world.subscribe((notification) => heard.push(notification));
      try {
        const run = await startedRun(t.world);
        await expect.poll(() => heard.some(isRun(run.runId)), { timeout: 3000 }).toBe(true);
        expect((await t.world.runs.get(run.runId)).status).toBe("running");
      } finally {
        unsubscribeBad();
        unsubscribe();
        console.error = errors;
      }
    });
  });
}
