/**
 * Conformance: run leases. `acquire` takes a free, expired or own lease and otherwise flags the run
 * (`wakePending`) for its holder; `renew` extends only leases still held; `release` and an append's
 * `releaseLease` give the lease back unless the run was asked for meanwhile; appends under an owner
 * are fenced by the lease. `pickUpRun` (a World's own `runs.pickUp` where it has one) answers what
 * acquire, `events.list` and `inbox.list` would.
 */
import { describe, expect, it } from "vitest";
import { LeaseLostError, RunNotFoundError } from "../../errors/world.ts";
import { pickUpRun } from "../pick-up.ts";
import { appendNext, createRun, expectReject, startedRun, stepStarted } from "./fixtures.ts";
import { LONG, SHORT, TICK, type WorldContext } from "./harness.ts";

export function describeLeases(t: WorldContext): void {
  describe("leases", () => {
    it("acquire takes a free lease", async () => {
      const run = await createRun(t.world);
      const result = await t.world.runs.acquire(run.runId, "owner-a", LONG);
      expect(result.acquired).toBe(true);
      expect(result.run.lease?.owner).toBe("owner-a");
      t.expectTime(result.run.lease?.expiresAt, t.now() + LONG);
      expect(result.run.wakePending).toBe(false);
      expect(await t.world.runs.get(run.runId)).toEqual(result.run);
    });

    it("acquire of a lease held by another owner fails and sets wakePending", async () => {
      const run = await createRun(t.world);
      const held = await t.world.runs.acquire(run.runId, "owner-a", LONG);
      const result = await t.world.runs.acquire(run.runId, "owner-b", LONG);
      expect(result.acquired).toBe(false);
      expect(result.run.lease).toEqual(held.run.lease);
      expect(result.run.wakePending).toBe(true);
      expect((await t.world.runs.get(run.runId)).wakePending).toBe(true);
    });

    it("acquire of one's own lease extends it", async () => {
      const run = await createRun(t.world);
      await t.world.runs.acquire(run.runId, "owner-a", SHORT);
      await t.advance(TICK);
      const again = await t.world.runs.acquire(run.runId, "owner-a", LONG);
      expect(again.acquired).toBe(true);
      t.expectTime(again.run.lease?.expiresAt, t.now() + LONG);
    });

    it("acquire takes an expired lease from its former owner", async () => {
      const run = await createRun(t.world);
      await t.world.runs.acquire(run.runId, "owner-a", SHORT);
      await t.advance(SHORT + TICK);
      const result = await t.world.runs.acquire(run.runId, "owner-b", LONG);
      expect(result.acquired).toBe(true);
      expect(result.run.lease?.owner).toBe("owner-b");
      expect(await t.world.runs.renew("owner-a", [run.runId], LONG)).toEqual([]);
    });

    it("acquire of an unknown run throws RunNotFoundError", async () => {
      await expectReject(t.world.runs.acquire("wrun_missing", "owner-a", LONG), RunNotFoundError, true);
    });

    it("renew extends the owner's leases and returns only the ids still held", async () => {
      const mine = await createRun(t.world);
      const lost = await createRun(t.world);
      const never = await createRun(t.world);
      await t.world.runs.acquire(mine.runId, "owner-a", SHORT);
      await t.world.runs.acquire(lost.runId, "owner-a", SHORT);
      await t.advance(SHORT + TICK);
      await t.world.runs.acquire(lost.runId, "owner-b", LONG);
      const held = await t.world.runs.renew(
        "owner-a",
        [mine.runId, lost.runId, never.runId, "wrun_missing"],
        LONG,
      );
      expect(held).toEqual([mine.runId]);
      t.expectTime((await t.world.runs.get(mine.runId)).lease?.expiresAt, t.now() + LONG);
      expect((await t.world.runs.get(lost.runId)).lease?.owner).toBe("owner-b");
      expect((await t.world.runs.get(never.runId)).lease).toBeUndefined();
    });

    it("release by the holder frees the lease", async () => {
      const run = await createRun(t.world);
      await t.world.runs.acquire(run.runId, "owner-a", LONG);
      expect(await t.world.runs.release(run.runId, "owner-a")).toBe(true);
      expect((await t.world.runs.get(run.runId)).lease).toBeUndefined();
      expect((await t.world.runs.acquire(run.runId, "owner-b", LONG)).acquired).toBe(true);
    });

    it("release is refused once when wakePending is set: the flag is cleared and the lease stays", async () => {
      const run = await createRun(t.world);
      await t.world.runs.acquire(run.runId, "owner-a", LONG);
      await t.world.runs.acquire(run.runId, "owner-b", LONG);
      expect(await t.world.runs.release(run.runId, "owner-a")).toBe(false);
      const after = await t.world.runs.get(run.runId);
      expect(after.wakePending).toBe(false);
      expect(after.lease?.owner).toBe("owner-a");
      expect(await t.world.runs.release(run.runId, "owner-a")).toBe(true);
      expect((await t.world.runs.get(run.runId)).lease).toBeUndefined();
    });

    it("release by someone who holds no lease returns true and changes nothing", async () => {
      const run = await createRun(t.world);
      expect(await t.world.runs.release(run.runId, "owner-a")).toBe(true);
      await t.world.runs.acquire(run.runId, "owner-a", LONG);
      await t.world.runs.acquire(run.runId, "owner-c", LONG);
      const before = await t.world.runs.get(run.runId);
      expect(await t.world.runs.release(run.runId, "owner-b")).toBe(true);
      expect(await t.world.runs.get(run.runId)).toEqual(before);
    });

    it("appends under an owner are fenced by the lease", async () => {
      const run = await startedRun(t.world);
      // Nobody holds the lease: an owner may append.
      await appendNext(t.world, run.runId, [stepStarted("a")], { owner: "owner-a" });
      await t.world.runs.acquire(run.runId, "owner-a", SHORT);
      await appendNext(t.world, run.runId, [stepStarted("b")], { owner: "owner-a" });
      await appendNext(t.world, run.runId, [stepStarted("c")]);
      await expectReject(
        appendNext(t.world, run.runId, [stepStarted("d")], { owner: "owner-b" }),
        LeaseLostError,
        true,
      );
      // An expired lease still fences until someone acquires the run.
      await t.advance(SHORT + TICK);
      await expectReject(
        appendNext(t.world, run.runId, [stepStarted("d")], { owner: "owner-b" }),
        LeaseLostError,
        true,
      );
      await t.world.runs.acquire(run.runId, "owner-b", LONG);
      await appendNext(t.world, run.runId, [stepStarted("d")], { owner: "owner-b" });
      await expectReject(
        appendNext(t.world, run.runId, [stepStarted("e")], { owner: "owner-a" }),
        LeaseLostError,
        true,
      );
      expect((await t.world.steps.list(run.runId)).map((step) => step.stepId)).toEqual(["a", "b", "c", "d"]);
    });

    it("an append's releaseLease frees the lease and says so", async () => {
      const run = await startedRun(t.world);
      await t.world.runs.acquire(run.runId, "owner-a", LONG);
      const plain = await appendNext(t.world, run.runId, [stepStarted("a")], { owner: "owner-a" });
      expect(plain.leaseReleased).toBeUndefined();
      const result = await appendNext(t.world, run.runId, [stepStarted("b")], {
        owner: "owner-a",
        releaseLease: true,
      });
      expect(result.leaseReleased).toBe(true);
      expect((await t.world.runs.get(run.runId)).lease).toBeUndefined();
    });

    it("an append's releaseLease is denied when wakePending is set, and the flag is cleared", async () => {
      const run = await startedRun(t.world);
      await t.world.runs.acquire(run.runId, "owner-a", LONG);
      await t.world.runs.acquire(run.runId, "owner-b", LONG);
      const result = await appendNext(t.world, run.runId, [stepStarted("a")], {
        owner: "owner-a",
        releaseLease: true,
      });
      expect(result.leaseReleased).toBe(false);
      const kept = await t.world.runs.get(run.runId);
      expect(kept.wakePending).toBe(false);
      expect(kept.lease?.owner).toBe("owner-a");
      expect(result.seq).toBe(3);
      const again = await appendNext(t.world, run.runId, [], { owner: "owner-a", releaseLease: true });
      expect(again.leaseReleased).toBe(true);
    });

    it("an append that ends the run releases the lease even when wakePending is set", async () => {
      const run = await startedRun(t.world);
      await t.world.runs.acquire(run.runId, "owner-a", LONG);
      await t.world.runs.acquire(run.runId, "owner-b", LONG);
      const result = await appendNext(t.world, run.runId, [{ type: "run_completed", data: {} }], {
        owner: "owner-a",
        releaseLease: true,
      });
      expect(result.leaseReleased).toBe(true);
      const ended = await t.world.runs.get(run.runId);
      expect(ended.lease).toBeUndefined();
      expect(ended.wakePending).toBe(false);
    });

    it("an append's releaseLease by an owner without the lease reports it released", async () => {
      const run = await startedRun(t.world);
      const result = await appendNext(t.world, run.runId, [stepStarted("a")], {
        owner: "owner-a",
        releaseLease: true,
      });
      expect(result.leaseReleased).toBe(true);
      expect((await t.world.runs.get(run.runId)).lease).toBeUndefined();
    });

    it("pickUp acquires, then reads the log and the inbox; at knownSeq it leaves the log out", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [stepStarted("a")]);
      await t.world.inbox.put({ runId: run.runId, kind: "cancel" });
      const picked = await pickUpRun(t.world, run.runId, "owner-a", LONG);
      expect(picked.acquired).toBe(true);
      expect(picked.run.lease?.owner).toBe("owner-a");
      expect(picked.events).toEqual(await t.world.events.list(run.runId));
      expect(picked.events?.map((event) => event.seq)).toEqual([1, 2, 3]);
      expect(picked.inbox).toEqual(await t.world.inbox.list(run.runId));
      expect(picked.inbox?.map((item) => item.kind)).toEqual(["cancel"]);
      const again = await pickUpRun(t.world, run.runId, "owner-a", LONG, picked.run.seq);
      expect(again.acquired).toBe(true);
      expect(again.events).toBeUndefined();
      expect(again.inbox).toEqual(picked.inbox);
      const stale = await pickUpRun(t.world, run.runId, "owner-a", LONG, 1);
      expect(stale.events?.length).toBe(3);
    });

    it("pickUp of a run leased to another owner reads nothing and flags it like acquire", async () => {
      const run = await startedRun(t.world);
      await t.world.runs.acquire(run.runId, "owner-a", LONG);
      const picked = await pickUpRun(t.world, run.runId, "owner-b", LONG);
      expect(picked.acquired).toBe(false);
      expect(picked.events).toBeUndefined();
      expect(picked.inbox).toBeUndefined();
      expect((await t.world.runs.get(run.runId)).wakePending).toBe(true);
      await expectReject(pickUpRun(t.world, "wrun_missing", "owner-a", LONG), RunNotFoundError, true);
    });

    it("pickUp of an ended run takes the lease and reads nothing", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [{ type: "run_completed", data: {} }]);
      const picked = await pickUpRun(t.world, run.runId, "owner-a", LONG);
      expect(picked.acquired).toBe(true);
      expect(picked.run.status).toBe("completed");
      expect(picked.events).toBeUndefined();
      expect(picked.inbox).toBeUndefined();
    });
  });
}
