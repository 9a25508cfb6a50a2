/**
 * Conformance: claiming by code version (`QueueFilter.versions`). A claim with a version list takes
 * only messages of runs pinned to one of those versions (`RunRecord.bundleHash`) or not pinned yet,
 * oldest first, however many messages of other versions wait before them; combined with
 * `workflows` and `runIds`, a message must match each; a message follows its run's pin when it
 * changes (`run_started` naming a bundle, `run_upgraded`), whether it waits or is leased, and
 * whether it was queued before or in the same append; `nextAvailableAt` with the same list counts
 * only what such a claim could take; concurrent claims never hand one message to two owners.
 */
import { describe, expect, it } from "vitest";
import type { QueueMessage } from "../types.ts";
import { appendNext, createRun, runInput, utf8 } from "./fixtures.ts";
import { LONG, SHORT, TICK, type WorldContext } from "./harness.ts";

const V1 = "1".repeat(64);
const V2 = "2".repeat(64);
const A = "conformance/versioned-a";
const B = "conformance/versioned-b";
const kinds = (messages: QueueMessage[]) => messages.map((message) => message.kind);
const ids = (messages: QueueMessage[]) => messages.map((message) => message.messageId);

export function describeQueueVersions(t: WorldContext): void {
  describe("queue: claims filtered by version", () => {
    /** A run (pinned to `version`, or not pinned) whose start message is already consumed. */
    async function quietRun(version: string | undefined, workflowName = A) {
      const run = await createRun(t.world, {
        workflowName,
        ...(version === undefined ? {} : { bundleHash: version }),
      });
      const claimed = await t.world.queue.claim("setup", { limit: 1000, leaseMs: LONG, runIds: [run.runId] });
      expect(kinds(claimed)).toEqual(["start"]);
      await t.world.queue.ack("setup", ids(claimed));
      return run;
    }

    it("claims messages of runs pinned to the given versions, and of runs not pinned yet, oldest first", async () => {
      const one = await quietRun(V1);
      const two = await quietRun(V2);
      const none = await quietRun(undefined);
      const base = t.now();
      await t.world.queue.enqueue([
        { runId: two.runId, kind: "v2-a", availableAt: base - 4000 },
        { runId: one.runId, kind: "v1-a", availableAt: base - 3000 },
        { runId: none.runId, kind: "none-a", availableAt: base - 2000 },
        { runId: two.runId, kind: "v2-b", availableAt: base - 1000 },
        { runId: one.runId, kind: "v1-b", availableAt: base },
        { runId: one.runId, kind: "v1-later", availableAt: base + LONG },
      ]);
      expect(kinds(await t.world.queue.claim("w1", { limit: 10, leaseMs: LONG, versions: [V1] }))).toEqual([
        "v1-a",
        "none-a",
        "v1-b",
      ]);
      expect(
        kinds(await t.world.queue.claim("w2", { limit: 1, leaseMs: LONG, versions: ["other", V2] })),
      ).toEqual(["v2-a"]);
      // An empty list takes only the runs nobody has pinned yet (there are none left here).
      expect(await t.world.queue.claim("w0", { limit: 10, leaseMs: LONG, versions: [] })).toEqual([]);
      expect(kinds(await t.world.queue.claim("any", { limit: 10, leaseMs: LONG }))).toEqual(["v2-b"]);
    });

    it("an empty list claims only runs not pinned yet", async () => {
      const one = await quietRun(V1);
      const none = await quietRun(undefined);
      await t.world.queue.enqueue([
        { runId: one.runId, kind: "v1" },
        { runId: none.runId, kind: "none" },
      ]);
      const unpinned = await t.world.queue.claim("w0", { limit: 10, leaseMs: LONG, versions: [] });
      expect(kinds(unpinned)).toEqual(["none"]);
      await t.world.queue.ack("w0", ids(unpinned));
      expect(await t.world.queue.nextAvailableAt({ versions: [] })).toBeUndefined();
      expect(await t.world.queue.nextAvailableAt({ versions: [V1] })).toBeDefined();
    });

    it("with workflows or runIds too, a message must match each", async () => {
      const a1 = await quietRun(V1, A);
      const b1 = await quietRun(V1, B);
      const a2 = await quietRun(V2, A);
      const aNone = await quietRun(undefined, A);
      await t.world.queue.enqueue([
        { runId: a1.runId, kind: "a1" },
        { runId: b1.runId, kind: "b1" },
        { runId: a2.runId, kind: "a2" },
        { runId: aNone.runId, kind: "a-none" },
      ]);
      expect(
        kinds(
          await t.world.queue.claim("w", {
            limit: 10,
            leaseMs: LONG,
            versions: [V2],
            runIds: [a1.runId, a2.runId],
          }),
        ),
      ).toEqual(["a2"]);
      expect(
        kinds(
          await t.world.queue.claim("w", { limit: 10, leaseMs: LONG, versions: [V1], workflows: [A] }),
        ).sort(),
      ).toEqual(["a-none", "a1"]);
      expect(
        await t.world.queue.claim("w", { limit: 10, leaseMs: LONG, versions: [V2], workflows: [B] }),
      ).toEqual([]);
      expect(
        kinds(await t.world.queue.claim("w", { limit: 10, leaseMs: LONG, versions: [V1], workflows: [B] })),
      ).toEqual(["b1"]);
    });

    it("a backlog of another version's older messages neither holds back nor joins the claim", async () => {
      const one = await quietRun(V1);
      const two = await quietRun(V2);
      const base = t.now();
      await t.world.queue.enqueue(
        Array.from({ length: 50 }, (_, index) => ({
          runId: two.runId,
          kind: `v2-${index}`,
          availableAt: base - 10_000,
        })),
      );
      await t.world.queue.enqueue([
        { runId: one.runId, kind: "a1", availableAt: base - 300 },
        { runId: one.runId, kind: "a2", availableAt: base - 200 },
        { runId: one.runId, kind: "a3", availableAt: base - 100 },
      ]);
      const claim = () =>
        t.world.queue.claim("w1", { limit: 2, leaseMs: LONG, versions: [V1], workflows: [A] });
      expect(kinds(await claim())).toEqual(["a1", "a2"]);
      expect(kinds(await claim())).toEqual(["a3"]);
      expect(await claim()).toEqual([]);
      const backlog = await t.world.queue.list(two.runId);
      expect(backlog).toHaveLength(50);
      for (const message of backlog) {
        expect(message.lease).toBeUndefined();
        expect(message.deliveries).toBe(0);
      }
    });

    it("a message follows its run's pin: run_started naming a bundle, run_upgraded, waiting or leased", async () => {
      // Unpinned at creation: its start message is anybody's.
      const run = await t.world.runs.create(runInput({ workflowName: A }));
      expect(await t.world.queue.nextAvailableAt({ versions: [V2] })).toBeDefined();
      const [start] = await t.world.queue.claim("w2", { limit: 10, leaseMs: SHORT, versions: [V2] });
      expect(start).toMatchObject({ runId: run.runId, kind: "start" });
      await t.world.queue.enqueue([{ runId: run.runId, kind: "before-pin" }]);
      // The worker that starts it pins it, and queues a message in the same append.
      await appendNext(t.world, run.runId, [{ type: "run_started", data: { bundleHash: V1 } }], {
        enqueue: [{ runId: run.runId, kind: "with-pin" }],
      });
      expect(await t.world.queue.claim("w2", { limit: 10, leaseMs: LONG, versions: [V2] })).toEqual([]);
      expect(await t.world.queue.nextAvailableAt({ versions: [V2] })).toBeUndefined();
      // The start message, leased when the run was pinned, comes back to V1 only once its lease ends.
      await t.advance(SHORT + TICK);
      expect(await t.world.queue.claim("w2", { limit: 10, leaseMs: LONG, versions: [V2] })).toEqual([]);
      const mine = await t.world.queue.claim("w1", { limit: 10, leaseMs: LONG, versions: [V1] });
      expect(kinds(mine).sort()).toEqual(["before-pin", "start", "with-pin"]);
      await t.world.queue.ack("w1", ids(mine));

      // Upgraded to V2: its waiting messages are V2's from the same write on.
      await t.world.queue.enqueue([{ runId: run.runId, kind: "before-upgrade" }]);
      await appendNext(t.world, run.runId, [{ type: "run_upgraded", data: { fromHash: V1, toHash: V2 } }]);
      expect(await t.world.queue.claim("w1", { limit: 10, leaseMs: LONG, versions: [V1] })).toEqual([]);
      expect(kinds(await t.world.queue.claim("w2", { limit: 10, leaseMs: LONG, versions: [V2] }))).toEqual([
        "before-upgrade",
      ]);
    });

    it("every way a message is queued carries its run's version", async () => {
      const [batched] = await t.world.runs.createMany([runInput({ workflowName: A, bundleHash: V2 })]);
      const created = await t.world.runs.create(runInput({ workflowName: A, bundleHash: V1 }));
      // runs.create and runs.createMany: the start messages.
      expect(ids(await t.world.queue.claim("w1", { limit: 10, leaseMs: LONG, versions: [V1] }))).toHaveLength(
        1,
      );
      const [start2] = await t.world.queue.claim("w2", { limit: 10, leaseMs: LONG, versions: [V2] });
      expect(start2?.runId).toBe(batched?.run.runId);
      await t.world.queue.ack("w2", ids(start2 === undefined ? [] : [start2]));

      // events.append: a wake-up for another run carries that run's version.
      await appendNext(t.world, created.runId, [{ type: "run_started", data: {} }], {
        enqueue: [{ runId: batched?.run.runId ?? "", kind: "other-wake" }],
      });
      expect(await t.world.queue.claim("w1", { limit: 10, leaseMs: LONG, versions: [V1] })).toEqual([]);
      const [wake] = await t.world.queue.claim("w2", { limit: 10, leaseMs: LONG, versions: [V2] });
      expect(wake).toMatchObject({ kind: "other-wake" });

      // queue.release: a message handed back keeps its run's version.
      await t.world.queue.release("w2", wake?.messageId ?? "");
      expect(await t.world.queue.claim("w1", { limit: 10, leaseMs: LONG, versions: [V1] })).toEqual([]);
      expect(kinds(await t.world.queue.claim("w2", { limit: 10, leaseMs: LONG, versions: [V2] }))).toEqual([
        "other-wake",
      ]);

      // inbox.put: the inbox message.
      await t.world.inbox.put({
        runId: created.runId,
        kind: "hook_payload",
        hookId: "hook_v",
        payload: utf8("{}"),
      });
      expect(await t.world.queue.claim("w2", { limit: 10, leaseMs: LONG, versions: [V2] })).toEqual([]);
      expect(kinds(await t.world.queue.claim("w1", { limit: 10, leaseMs: LONG, versions: [V1] }))).toEqual([
        "inbox",
      ]);
    });

    it("a message whose lease expired is reclaimed only by a claim that includes its version", async () => {
      const one = await quietRun(V1);
      const two = await quietRun(V2);
      await t.world.queue.enqueue([
        { runId: one.runId, kind: "v1" },
        { runId: two.runId, kind: "v2" },
      ]);
      expect(await t.world.queue.claim("x", { limit: 10, leaseMs: SHORT })).toHaveLength(2);
      await t.advance(SHORT + TICK);
      const [again] = await t.world.queue.claim("w1", { limit: 10, leaseMs: LONG, versions: [V1] });
      expect(again).toMatchObject({ kind: "v1", deliveries: 2 });
      expect(
        await t.world.queue.claim("w1", { limit: 10, leaseMs: LONG, versions: [V1], workflows: [A] }),
      ).toEqual([]);
      const [other] = await t.world.queue.claim("w2", {
        limit: 10,
        leaseMs: LONG,
        versions: [V2],
        workflows: [A],
      });
      expect(other).toMatchObject({ kind: "v2", deliveries: 2 });
    });

    it("nextAvailableAt with versions counts only what a claim with them could take", async () => {
      const one = await quietRun(V1);
      const two = await quietRun(V2);
      expect(await t.world.queue.nextAvailableAt({ versions: [V1] })).toBeUndefined();
      const base = t.now();
      await t.world.queue.enqueue([
        { runId: two.runId, kind: "v2-due", availableAt: base - 500 },
        { runId: one.runId, kind: "v1-later", availableAt: base + LONG },
      ]);
      expect(await t.world.queue.nextAvailableAt({ versions: [V1] })).toBe(base + LONG);
      expect(await t.world.queue.nextAvailableAt({ versions: [V1], workflows: [A] })).toBe(base + LONG);
      expect(await t.world.queue.nextAvailableAt({ versions: [V1], workflows: [B] })).toBeUndefined();
      expect(await t.world.queue.nextAvailableAt({ versions: [V2] })).toBe(base - 500);
      expect(await t.world.queue.nextAvailableAt({ versions: [V1, V2], workflows: [A] })).toBe(base - 500);
      expect(await t.world.queue.nextAvailableAt({ versions: [V1], runIds: [two.runId] })).toBeUndefined();
      // A leased message counts, for its version only, from when its lease runs out.
      const [due] = await t.world.queue.claim("w2", { limit: 1, leaseMs: LONG / 2, versions: [V2] });
      expect(due?.kind).toBe("v2-due");
      t.expectTime(
        await t.world.queue.nextAvailableAt({ versions: [V2], workflows: [A] }),
        t.now() + LONG / 2,
      );
      t.expectTime(await t.world.queue.nextAvailableAt({ versions: [V2] }), t.now() + LONG / 2);
      expect(await t.world.queue.nextAvailableAt({ versions: [V1] })).toBe(base + LONG);
      await t.world.queue.ack("w2", [due?.messageId ?? ""]);
      expect(await t.world.queue.nextAvailableAt({ versions: [V2] })).toBeUndefined();
    });

    it("concurrent claims by version never hand one message to two owners", async () => {
      const one = await quietRun(V1);
      const two = await quietRun(V2);
      await t.world.queue.enqueue(
        Array.from({ length: 60 }, (_, index) => ({
          runId: index % 2 === 0 ? one.runId : two.runId,
          kind: `m${index}`,
        })),
      );
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          t.world.queue.claim(`owner-${index}`, {
            limit: 6,
            leaseMs: LONG,
            versions: [index % 2 === 0 ? V1 : V2],
            ...(index % 4 < 2 ? { workflows: [A] } : {}),
          }),
        ),
      );
      const all = claims.flatMap(ids);
      expect(new Set(all).size).toBe(all.length);
      expect(all).toHaveLength(60);
      for (const [index, claimed] of claims.entries()) {
        for (const message of claimed) expect(message.runId).toBe(index % 2 === 0 ? one.runId : two.runId);
      }
    });
  });
}
