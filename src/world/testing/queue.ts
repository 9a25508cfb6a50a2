/**
 * Conformance: the message queue. Delayed delivery, claiming (limit, order, leases, deliveries),
 * lease expiry, dedupe against waiting messages only, ack / release / extend by the owner only,
 * `nextAvailableAt`, and concurrent claims that never hand one message to two owners.
 */
import { describe, expect, it } from "vitest";
import { RunNotFoundError } from "../../errors/world.ts";
import type { QueueMessage } from "../types.ts";
import { createRun, expectReject } from "./fixtures.ts";
import { LONG, SHORT, TICK, type WorldContext } from "./harness.ts";

const ids = (messages: QueueMessage[]) => messages.map((message) => message.messageId);

export function describeQueue(t: WorldContext): void {
  describe("queue", () => {
    /** A run whose start message is already consumed, so tests see only their own messages. */
    async function quietRun() {
      const run = await createRun(t.world);
      const claimed = await t.world.queue.claim("setup", { limit: 1000, leaseMs: LONG });
      await t.world.queue.ack("setup", ids(claimed));
      return run;
    }

    it("enqueue adds waiting messages; claim leases them to the owner and counts the delivery", async () => {
      const run = await quietRun();
      await t.world.queue.enqueue([{ runId: run.runId, kind: "wake", dedupeKey: "k1" }]);
      const [waiting] = await t.world.queue.list(run.runId);
      expect(waiting).toMatchObject({ runId: run.runId, kind: "wake", dedupeKey: "k1", deliveries: 0 });
      expect(waiting?.lease).toBeUndefined();
      t.expectTime(waiting?.availableAt, t.now());
      t.expectTime(waiting?.createdAt, t.now());
      const claimed = await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG });
      expect(claimed).toHaveLength(1);
      expect(claimed[0]).toMatchObject({ messageId: waiting?.messageId, kind: "wake", deliveries: 1 });
      expect(claimed[0]?.lease?.owner).toBe("owner-a");
      t.expectTime(claimed[0]?.lease?.expiresAt, t.now() + LONG);
      expect(await t.world.queue.list(run.runId)).toEqual(claimed);
      expect(await t.world.queue.claim("owner-b", { limit: 10, leaseMs: LONG })).toEqual([]);
    });

    it("enqueue for an unknown run throws RunNotFoundError and enqueues nothing", async () => {
      const run = await quietRun();
      await expectReject(
        t.world.queue.enqueue([
          { runId: run.runId, kind: "a" },
          { runId: "wrun_missing", kind: "b" },
        ]),
        RunNotFoundError,
        true,
      );
      expect(await t.world.queue.list(run.runId)).toEqual([]);
    });

    it("a delayed message is not claimable before availableAt", async () => {
      const run = await quietRun();
      const at = t.now() + SHORT;
      await t.world.queue.enqueue([{ runId: run.runId, kind: "later", availableAt: at }]);
      expect(await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG })).toEqual([]);
      expect(await t.world.queue.nextAvailableAt()).toBe(at);
      await t.advance(SHORT + TICK);
      const claimed = await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG });
      expect(claimed.map((message) => [message.kind, message.availableAt])).toEqual([["later", at]]);
    });

    it("claims due messages oldest availableAt first, at most limit", async () => {
      const run = await quietRun();
      const base = t.now();
      await t.world.queue.enqueue([
        { runId: run.runId, kind: "m2", availableAt: base - 2000 },
        { runId: run.runId, kind: "m4", availableAt: base },
        { runId: run.runId, kind: "m1", availableAt: base - 3000 },
        { runId: run.runId, kind: "future", availableAt: base + LONG },
        { runId: run.runId, kind: "m3", availableAt: base - 1000 },
      ]);
      const kinds = (messages: QueueMessage[]) => messages.map((message) => message.kind);
      expect(kinds(await t.world.queue.claim("owner-a", { limit: 2, leaseMs: LONG }))).toEqual(["m1", "m2"]);
      expect(kinds(await t.world.queue.claim("owner-b", { limit: 10, leaseMs: LONG }))).toEqual(["m3", "m4"]);
      expect(await t.world.queue.claim("owner-c", { limit: 10, leaseMs: LONG })).toEqual([]);
    });

    it("a message whose lease expired is claimable again, with deliveries counted", async () => {
      const run = await quietRun();
      await t.world.queue.enqueue([{ runId: run.runId, kind: "wake" }]);
      const [first] = await t.world.queue.claim("owner-a", { limit: 1, leaseMs: SHORT });
      expect(await t.world.queue.nextAvailableAt()).toBe(first?.lease?.expiresAt);
      await t.advance(SHORT + TICK);
      const [second] = await t.world.queue.claim("owner-b", { limit: 1, leaseMs: LONG });
      expect(second?.messageId).toBe(first?.messageId);
      expect(second?.deliveries).toBe(2);
      expect(second?.lease?.owner).toBe("owner-b");
      // The former owner can no longer ack, release or extend it.
      await t.world.queue.ack("owner-a", [first?.messageId ?? ""]);
      await t.world.queue.release("owner-a", first?.messageId ?? "");
      expect(await t.world.queue.extend("owner-a", [first?.messageId ?? ""], LONG)).toEqual([]);
      expect(await t.world.queue.list(run.runId)).toEqual([second]);
    });

    it("dedupe: a key blocks only while a message with it is waiting", async () => {
      const run = await quietRun();
      await t.world.queue.enqueue([
        { runId: run.runId, kind: "wake", dedupeKey: "k" },
        { runId: run.runId, kind: "wake", dedupeKey: "k" },
      ]);
      await t.world.queue.enqueue([{ runId: run.runId, kind: "wake", dedupeKey: "k" }]);
      expect(await t.world.queue.list(run.runId)).toHaveLength(1);
      await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG });
      await t.world.queue.enqueue([{ runId: run.runId, kind: "wake", dedupeKey: "k" }]);
      await t.world.queue.enqueue([{ runId: run.runId, kind: "wake", dedupeKey: "k" }]);
      await t.world.queue.enqueue([{ runId: run.runId, kind: "wake", dedupeKey: "other" }]);
      await t.world.queue.enqueue([
        { runId: run.runId, kind: "wake" },
        { runId: run.runId, kind: "wake" },
      ]);
      const messages = await t.world.queue.list(run.runId);
      expect(messages.filter((message) => message.dedupeKey === "k")).toHaveLength(2);
      expect(messages).toHaveLength(5);
    });

    it("ack deletes the owner's messages and ignores the others", async () => {
      const run = await quietRun();
      await t.world.queue.enqueue([{ runId: run.runId, kind: "a" }]);
      const [mine] = await t.world.queue.claim("owner-a", { limit: 1, leaseMs: LONG });
      await t.world.queue.enqueue([{ runId: run.runId, kind: "b" }]);
      const [theirs] = await t.world.queue.claim("owner-b", { limit: 1, leaseMs: LONG });
      await t.world.queue.enqueue([{ runId: run.runId, kind: "c" }]);
      const [waiting] = (await t.world.queue.list(run.runId)).filter((message) => message.kind === "c");
      await t.world.queue.ack("owner-a", [
        mine?.messageId ?? "",
        theirs?.messageId ?? "",
        waiting?.messageId ?? "",
        "msg_missing",
      ]);
      const left = await t.world.queue.list(run.runId);
      expect(left.map((message) => message.kind).sort()).toEqual(["b", "c"]);
    });

    it("release returns the owner's message to the queue at availableAt, or now", async () => {
      const run = await quietRun();
      await t.world.queue.enqueue([
        { runId: run.runId, kind: "a" },
        { runId: run.runId, kind: "b" },
      ]);
      const [a, b] = await t.world.queue.claim("owner-a", { limit: 2, leaseMs: LONG });
      const later = t.now() + SHORT;
      await t.world.queue.release("owner-a", a?.messageId ?? "", later);
      await t.world.queue.release("owner-b", b?.messageId ?? "");
      await t.world.queue.release("owner-a", "msg_missing");
      const released = (await t.world.queue.list(run.runId)).find(
        (message) => message.messageId === a?.messageId,
      );
      expect(released?.lease).toBeUndefined();
      expect(released?.availableAt).toBe(later);
      expect(await t.world.queue.claim("owner-c", { limit: 10, leaseMs: LONG })).toEqual([]);
      await t.advance(SHORT + TICK);
      const again = await t.world.queue.claim("owner-c", { limit: 10, leaseMs: LONG });
      expect(ids(again)).toEqual([a?.messageId]);
      expect(again[0]?.deliveries).toBe(2);
      await t.world.queue.release("owner-a", b?.messageId ?? "");
      const [now] = await t.world.queue.claim("owner-d", { limit: 10, leaseMs: LONG });
      expect(now?.messageId).toBe(b?.messageId);
    });

    it("extend lengthens the owner's leases and returns the ids still held", async () => {
      const run = await quietRun();
      await t.world.queue.enqueue([
        { runId: run.runId, kind: "a" },
        { runId: run.runId, kind: "b" },
      ]);
      const [a] = await t.world.queue.claim("owner-a", { limit: 1, leaseMs: SHORT });
      const [b] = await t.world.queue.claim("owner-b", { limit: 1, leaseMs: SHORT });
      const held = await t.world.queue.extend(
        "owner-a",
        [a?.messageId ?? "", b?.messageId ?? "", "msg_missing"],
        LONG,
      );
      expect(held).toEqual([a?.messageId]);
      t.expectTime(
        (await t.world.queue.list(run.runId)).find((m) => m.messageId === a?.messageId)?.lease?.expiresAt,
        t.now() + LONG,
      );
      await t.advance(SHORT + TICK);
      expect(ids(await t.world.queue.claim("owner-c", { limit: 10, leaseMs: LONG }))).toEqual([b?.messageId]);
    });

    it("nextAvailableAt: undefined when empty, the earliest due time otherwise", async () => {
      const run = await quietRun();
      expect(await t.world.queue.nextAvailableAt()).toBeUndefined();
      const base = t.now();
      await t.world.queue.enqueue([
        { runId: run.runId, kind: "b", availableAt: base + 2 * LONG },
        { runId: run.runId, kind: "a", availableAt: base + LONG },
      ]);
      expect(await t.world.queue.nextAvailableAt()).toBe(base + LONG);
      await t.world.queue.enqueue([{ runId: run.runId, kind: "due", availableAt: base - 500 }]);
      const next = await t.world.queue.nextAvailableAt();
      expect(next).toBeLessThanOrEqual(t.now());
      // A leased message counts from when its lease runs out.
      const [due] = await t.world.queue.claim("owner-a", { limit: 1, leaseMs: LONG / 2 });
      expect(due?.kind).toBe("due");
      t.expectTime(await t.world.queue.nextAvailableAt(), t.now() + LONG / 2);
      await t.world.queue.extend("owner-a", [due?.messageId ?? ""], 3 * LONG);
      expect(await t.world.queue.nextAvailableAt()).toBe(base + LONG);
      await t.world.queue.ack("owner-a", [due?.messageId ?? ""]);
      expect(await t.world.queue.nextAvailableAt()).toBe(base + LONG);
    });

    it("concurrent claims never hand one message to two owners", async () => {
      const run = await quietRun();
      await t.world.queue.enqueue(
        Array.from({ length: 60 }, (_, index) => ({ runId: run.runId, kind: `m${index}` })),
      );
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          t.world.queue.claim(`owner-${index}`, { limit: 7, leaseMs: LONG }),
        ),
      );
      const all = claims.flatMap(ids);
      expect(new Set(all).size).toBe(all.length);
      expect(all).toHaveLength(60);
      for (const [index, claimed] of claims.entries()) {
        for (const message of claimed) expect(message.lease?.owner).toBe(`owner-${index}`);
      }
    });

    it("list shows only the run's messages", async () => {
      const a = await quietRun();
      const b = await quietRun();
      await t.world.queue.enqueue([
        { runId: a.runId, kind: "x" },
        { runId: b.runId, kind: "y" },
      ]);
      expect((await t.world.queue.list(a.runId)).map((message) => message.kind)).toEqual(["x"]);
      expect(await t.world.queue.list("wrun_missing")).toEqual([]);
    });
  });
}
