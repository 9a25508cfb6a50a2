/**
 * Conformance: claiming by workflow (`QueueFilter.workflows`). A claim with a workflow list takes
 * only messages of runs of those workflows, oldest first, however many messages of other workflows
 * wait before them; `nextAvailableAt` with the same list counts only what such a claim could take;
 * every way a message is queued (run creation, append, inbox, enqueue, release, lease expiry) keeps
 * its run's workflow; and concurrent filtered claims never hand one message to two owners.
 */
import { describe, expect, it } from "vitest";
import type { QueueMessage } from "../types.ts";
import { appendNext, createRun, startedRun, stepStarted, utf8 } from "./fixtures.ts";
import { LONG, SHORT, TICK, type WorldContext } from "./harness.ts";

const A = "conformance/workflow-a";
const B = "conformance/workflow-b";
const kinds = (messages: QueueMessage[]) => messages.map((message) => message.kind);
const ids = (messages: QueueMessage[]) => messages.map((message) => message.messageId);

export function describeQueueFilter(t: WorldContext): void {
  describe("queue: claims filtered by workflow", () => {
    /** A run of `workflowName` whose start message is already consumed. */
    async function quietRun(workflowName: string) {
      const run = await createRun(t.world, { workflowName });
      const claimed = await t.world.queue.claim("setup", {
        limit: 1000,
        leaseMs: LONG,
        workflows: [workflowName],
      });
      expect(kinds(claimed)).toEqual(["start"]);
      await t.world.queue.ack("setup", ids(claimed));
      return run;
    }

    it("claims only messages of runs of the given workflows, oldest availableAt first", async () => {
      const a = await quietRun(A);
      const b = await quietRun(B);
      const base = t.now();
      await t.world.queue.enqueue([
        { runId: b.runId, kind: "b1", availableAt: base - 3000 },
        { runId: a.runId, kind: "a1", availableAt: base - 2000 },
        { runId: b.runId, kind: "b2", availableAt: base - 1000 },
        { runId: a.runId, kind: "a2", availableAt: base },
        { runId: a.runId, kind: "a-later", availableAt: base + LONG },
      ]);
      const mine = await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG, workflows: [A] });
      expect(kinds(mine)).toEqual(["a1", "a2"]);
      for (const message of mine) expect(message.runId).toBe(a.runId);
      expect(
        kinds(await t.world.queue.claim("owner-b", { limit: 1, leaseMs: LONG, workflows: [B] })),
      ).toEqual(["b1"]);
      expect(
        kinds(
          await t.world.queue.claim("owner-c", { limit: 10, leaseMs: LONG, workflows: ["unknown", B, A] }),
        ),
      ).toEqual(["b2"]);
    });

    it("an empty list claims nothing; no list claims every workflow", async () => {
      const a = await quietRun(A);
      const b = await quietRun(B);
      await t.world.queue.enqueue([
        { runId: a.runId, kind: "a" },
        { runId: b.runId, kind: "b" },
      ]);
      expect(await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG, workflows: [] })).toEqual([]);
      expect(
        await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG, workflows: ["unknown"] }),
      ).toEqual([]);
      const all = await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG });
      expect(kinds(all).sort()).toEqual(["a", "b"]);
    });

    it("a backlog of another workflow's older messages neither holds back nor joins the claim", async () => {
      const a = await quietRun(A);
      const b = await quietRun(B);
      const base = t.now();
      await t.world.queue.enqueue(
        Array.from({ length: 50 }, (_, index) => ({
          runId: b.runId,
          kind: `b${index}`,
          availableAt: base - 10_000,
        })),
      );
      await t.world.queue.enqueue([
        { runId: a.runId, kind: "a1", availableAt: base - 300 },
        { runId: a.runId, kind: "a2", availableAt: base - 200 },
        { runId: a.runId, kind: "a3", availableAt: base - 100 },
      ]);
      expect(
        kinds(await t.world.queue.claim("owner-a", { limit: 2, leaseMs: LONG, workflows: [A] })),
      ).toEqual(["a1", "a2"]);
      expect(
        kinds(await t.world.queue.claim("owner-a", { limit: 2, leaseMs: LONG, workflows: [A] })),
      ).toEqual(["a3"]);
      expect(await t.world.queue.claim("owner-a", { limit: 2, leaseMs: LONG, workflows: [A] })).toEqual([]);
      const backlog = await t.world.queue.list(b.runId);
      expect(backlog).toHaveLength(50);
      for (const message of backlog) {
        expect(message.lease).toBeUndefined();
        expect(message.deliveries).toBe(0);
      }
    });

    it("every way a message is queued keeps its run's workflow", async () => {
      // runs.create: the start message.
      const a = await createRun(t.world, { workflowName: A });
      const b = await createRun(t.world, { workflowName: B });
      const [startB] = await t.world.queue.claim("owner-b", { limit: 10, leaseMs: LONG, workflows: [B] });
      expect(startB).toMatchObject({ runId: b.runId, kind: "start" });
      const [startA] = await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG, workflows: [A] });
      expect(startA).toMatchObject({ runId: a.runId, kind: "start" });
      await t.world.queue.ack("owner-a", [startA?.messageId ?? ""]);
      await t.world.queue.ack("owner-b", [startB?.messageId ?? ""]);

      // events.append: a wake-up for the run itself and one for another run.
      const started = await startedRun(t.world, { workflowName: A });
      const [startC] = await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG, workflows: [A] });
      expect(startC?.runId).toBe(started.runId);
      await t.world.queue.ack("owner-a", [startC?.messageId ?? ""]);
      await appendNext(t.world, started.runId, [stepStarted("s1")], {
        enqueue: [
          { runId: started.runId, kind: "own-wake" },
          { runId: b.runId, kind: "other-wake" },
        ],
      });
      expect(
        kinds(await t.world.queue.claim("owner-b", { limit: 10, leaseMs: LONG, workflows: [B] })),
      ).toEqual(["other-wake"]);
      expect(
        kinds(await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG, workflows: [A] })),
      ).toEqual(["own-wake"]);

      // inbox.put: the inbox message.
      await t.world.inbox.put({
        runId: b.runId,
        kind: "hook_payload",
        hookId: "hook_x",
        payload: utf8("{}"),
      });
      expect(await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG, workflows: [A] })).toEqual([]);
      const [inbox] = await t.world.queue.claim("owner-b", { limit: 10, leaseMs: LONG, workflows: [B] });
      expect(inbox).toMatchObject({ runId: b.runId, kind: "inbox" });

      // queue.release: a message handed back is still its run's.
      await t.world.queue.release("owner-b", inbox?.messageId ?? "");
      expect(await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG, workflows: [A] })).toEqual([]);
      expect(ids(await t.world.queue.claim("owner-b", { limit: 10, leaseMs: LONG, workflows: [B] }))).toEqual(
        [inbox?.messageId],
      );
    });

    it("a message whose lease expired is reclaimed only by a claim that includes its workflow", async () => {
      const a = await quietRun(A);
      const b = await quietRun(B);
      await t.world.queue.enqueue([
        { runId: a.runId, kind: "a" },
        { runId: b.runId, kind: "b" },
      ]);
      expect(await t.world.queue.claim("owner-x", { limit: 10, leaseMs: SHORT })).toHaveLength(2);
      await t.advance(SHORT + TICK);
      const [again] = await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG, workflows: [A] });
      expect(again).toMatchObject({ kind: "a", deliveries: 2 });
      expect(await t.world.queue.claim("owner-a", { limit: 10, leaseMs: LONG, workflows: [A] })).toEqual([]);
      const [other] = await t.world.queue.claim("owner-b", { limit: 10, leaseMs: LONG, workflows: [B] });
      expect(other).toMatchObject({ kind: "b", deliveries: 2 });
    });

    it("nextAvailableAt with workflows counts only what a claim with them could take", async () => {
      const a = await quietRun(A);
      const b = await quietRun(B);
      expect(await t.world.queue.nextAvailableAt({ workflows: [A] })).toBeUndefined();
      const base = t.now();
      await t.world.queue.enqueue([
        { runId: b.runId, kind: "b-due", availableAt: base - 500 },
        { runId: a.runId, kind: "a-later", availableAt: base + LONG },
      ]);
      // Another workflow's due message does not make this one's next time "now".
      expect(await t.world.queue.nextAvailableAt({ workflows: [A] })).toBe(base + LONG);
      expect(await t.world.queue.nextAvailableAt({ workflows: [B] })).toBe(base - 500);
      expect(await t.world.queue.nextAvailableAt({ workflows: [A, B] })).toBe(base - 500);
      expect(await t.world.queue.nextAvailableAt({ workflows: [] })).toBeUndefined();
      expect(await t.world.queue.nextAvailableAt({ workflows: ["unknown"] })).toBeUndefined();
      expect(await t.world.queue.nextAvailableAt()).toBe(base - 500);
      // A leased message counts, for its workflow only, from when its lease runs out.
      const [due] = await t.world.queue.claim("owner-b", { limit: 1, leaseMs: LONG / 2, workflows: [B] });
      expect(due?.kind).toBe("b-due");
      t.expectTime(await t.world.queue.nextAvailableAt({ workflows: [B] }), t.now() + LONG / 2);
      expect(await t.world.queue.nextAvailableAt({ workflows: [A] })).toBe(base + LONG);
      t.expectTime(await t.world.queue.nextAvailableAt(), t.now() + LONG / 2);
      await t.world.queue.ack("owner-b", [due?.messageId ?? ""]);
      expect(await t.world.queue.nextAvailableAt({ workflows: [B] })).toBeUndefined();
    });

    it("concurrent filtered claims never hand one message to two owners", async () => {
      const a = await quietRun(A);
      const b = await quietRun(B);
      await t.world.queue.enqueue(
        Array.from({ length: 60 }, (_, index) => ({
          runId: index % 2 === 0 ? a.runId : b.runId,
          kind: `m${index}`,
        })),
      );
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          t.world.queue.claim(`owner-${index}`, {
            limit: 6,
            leaseMs: LONG,
            workflows: [index % 2 === 0 ? A : B],
          }),
        ),
      );
      const all = claims.flatMap(ids);
      expect(new Set(all).size).toBe(all.length);
      expect(all).toHaveLength(60);
      for (const [index, claimed] of claims.entries()) {
        for (const message of claimed) {
          expect(message.lease?.owner).toBe(`owner-${index}`);
          expect(message.runId).toBe(index % 2 === 0 ? a.runId : b.runId);
        }
      }
    });
  });
}
