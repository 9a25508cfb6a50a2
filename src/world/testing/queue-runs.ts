/**
 * Conformance: claiming by run (`QueueFilter.runIds`), what a process that drives only the runs it
 * started (`npx stepwise start --wait`) asks for. Such a claim takes only those runs' messages —
 * due waiting ones and expired claims, oldest first — and leaves every other run's alone, however
 * many wait before them; with `workflows` too a message must match both; `nextAvailableAt` with
 * the same filter counts only what such a claim could take.
 */
import { describe, expect, it } from "vitest";
import type { QueueMessage } from "../types.ts";
import { createRun } from "./fixtures.ts";
import { LONG, SHORT, TICK, type WorldContext } from "./harness.ts";

const A = "conformance/workflow-a";
const B = "conformance/workflow-b";
const kinds = (messages: QueueMessage[]) => messages.map((message) => message.kind);

export function describeQueueRuns(t: WorldContext): void {
  describe("queue: claims filtered by run", () => {
    /** A run whose start message is already consumed. */
    async function quietRun(workflowName = A) {
      const run = await createRun(t.world, { workflowName });
      const claimed = await t.world.queue.claim("setup", { limit: 10, leaseMs: LONG, runIds: [run.runId] });
      expect(kinds(claimed)).toEqual(["start"]);
      await t.world.queue.ack(
        "setup",
        claimed.map((message) => message.messageId),
      );
      return run;
    }

    it("claims only the given runs' messages, oldest availableAt first, and leaves the others", async () => {
      const mine = await quietRun();
      const other = await quietRun();
      const base = t.now();
      await t.world.queue.enqueue([
        ...Array.from({ length: 30 }, (_, index) => ({
          runId: other.runId,
          kind: `other${index}`,
          availableAt: base - 10_000,
        })),
        { runId: mine.runId, kind: "m2", availableAt: base - 100 },
        { runId: mine.runId, kind: "m1", availableAt: base - 200 },
        { runId: mine.runId, kind: "later", availableAt: base + LONG },
      ]);
      const claimed = await t.world.queue.claim("me", { limit: 10, leaseMs: LONG, runIds: [mine.runId] });
      expect(kinds(claimed)).toEqual(["m1", "m2"]);
      for (const message of claimed) expect(message).toMatchObject({ runId: mine.runId, deliveries: 1 });
      expect(await t.world.queue.claim("me", { limit: 10, leaseMs: LONG, runIds: [mine.runId] })).toEqual([]);
      for (const message of await t.world.queue.list(other.runId)) {
        expect(message.lease).toBeUndefined();
        expect(message.deliveries).toBe(0);
      }
      // Several runs; the limit holds.
      const third = await quietRun();
      await t.world.queue.enqueue([{ runId: third.runId, kind: "t1", availableAt: base - 300 }]);
      expect(
        kinds(
          await t.world.queue.claim("me", { limit: 1, leaseMs: LONG, runIds: [mine.runId, third.runId] }),
        ),
      ).toEqual(["t1"]);
    });

    it("an empty list claims nothing; with workflows, a message must match both", async () => {
      const a = await quietRun(A);
      const b = await quietRun(B);
      await t.world.queue.enqueue([
        { runId: a.runId, kind: "a" },
        { runId: b.runId, kind: "b" },
      ]);
      expect(await t.world.queue.claim("me", { limit: 10, leaseMs: LONG, runIds: [] })).toEqual([]);
      expect(await t.world.queue.claim("me", { limit: 10, leaseMs: LONG, runIds: ["wrun_unknown"] })).toEqual(
        [],
      );
      expect(
        await t.world.queue.claim("me", { limit: 10, leaseMs: LONG, runIds: [b.runId], workflows: [A] }),
      ).toEqual([]);
      expect(
        kinds(
          await t.world.queue.claim("me", {
            limit: 10,
            leaseMs: LONG,
            runIds: [a.runId, b.runId],
            workflows: [A],
          }),
        ),
      ).toEqual(["a"]);
      expect(kinds(await t.world.queue.claim("me", { limit: 10, leaseMs: LONG, runIds: [b.runId] }))).toEqual(
        ["b"],
      );
    });

    it("takes back the given runs' messages whose claim expired, and only theirs", async () => {
      const mine = await quietRun();
      const other = await quietRun();
      await t.world.queue.enqueue([
        { runId: mine.runId, kind: "m" },
        { runId: other.runId, kind: "o" },
      ]);
      expect(await t.world.queue.claim("someone", { limit: 10, leaseMs: SHORT })).toHaveLength(2);
      expect(await t.world.queue.claim("me", { limit: 10, leaseMs: LONG, runIds: [mine.runId] })).toEqual([]);
      await t.advance(SHORT + TICK);
      const [again] = await t.world.queue.claim("me", { limit: 10, leaseMs: LONG, runIds: [mine.runId] });
      expect(again).toMatchObject({ kind: "m", deliveries: 2 });
      expect(await t.world.queue.claim("me", { limit: 10, leaseMs: LONG, runIds: [mine.runId] })).toEqual([]);
      const [left] = await t.world.queue.claim("another", { limit: 10, leaseMs: LONG });
      expect(left).toMatchObject({ kind: "o", runId: other.runId });
    });

    it("nextAvailableAt with runIds counts only what a claim with them could take", async () => {
      const mine = await quietRun();
      const other = await quietRun();
      expect(await t.world.queue.nextAvailableAt({ runIds: [mine.runId] })).toBeUndefined();
      const base = t.now();
      await t.world.queue.enqueue([
        { runId: other.runId, kind: "o-due", availableAt: base - 500 },
        { runId: mine.runId, kind: "m-later", availableAt: base + LONG },
      ]);
      expect(await t.world.queue.nextAvailableAt({ runIds: [mine.runId] })).toBe(base + LONG);
      expect(await t.world.queue.nextAvailableAt({ runIds: [other.runId] })).toBe(base - 500);
      expect(await t.world.queue.nextAvailableAt({ runIds: [] })).toBeUndefined();
      expect(await t.world.queue.nextAvailableAt({ runIds: [other.runId], workflows: [B] })).toBeUndefined();
      // A claimed message counts, for its run only, from when its lease runs out.
      const [due] = await t.world.queue.claim("someone", {
        limit: 1,
        leaseMs: LONG / 2,
        runIds: [other.runId],
      });
      expect(due?.kind).toBe("o-due");
      t.expectTime(await t.world.queue.nextAvailableAt({ runIds: [other.runId] }), t.now() + LONG / 2);
      expect(await t.world.queue.nextAvailableAt({ runIds: [mine.runId] })).toBe(base + LONG);
    });
  });
}
