/**
 * Conformance: workflow bundles (`bundles`), the code runs are pinned to. A bundle is stored once
 * under its hash — storing it again changes nothing, whatever else the second copy says — and read
 * back byte for byte; an unknown hash is a `NotFoundError`. A run created with a `bundleHash`
 * carries it in its `run_created` event, alone or in a batch. The run's version
 * (`RunRecord.bundleHash`) is the latest hash its log names — at creation, in a `run_started`
 * (a run started by a client without the code), in a `run_upgraded` — on every read of the run
 * (get, list, acquire, the append's result); a `run_upgraded` also raises the run's `specVersion`
 * to `UPGRADED_SPEC_VERSION`, never lowers it.
 */
import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../errors/world.ts";
import { UPGRADED_SPEC_VERSION } from "../events.ts";
import type { RunRecord } from "../types.ts";
import { allBytes, appendNext, expectBytes, expectReject, runInput } from "./fixtures.ts";
import type { WorldContext } from "./harness.ts";

export function describeBundles(t: WorldContext): void {
  describe("bundles", () => {
    it("stores a bundle once under its hash and reads it back byte for byte", async () => {
      const hash = "a".repeat(64);
      const code = allBytes();
      await t.world.bundles.put({
        hash,
        filename: "/app/workflows/order.ts.bundle.js",
        workflowIds: ["w1", "w2"],
        code,
      });
      // A second put of the same hash changes nothing (the first copy stays).
      await t.world.bundles.put({
        hash,
        filename: "/elsewhere.js",
        workflowIds: ["w3"],
        code: new Uint8Array([1]),
      });
      const stored = await t.world.bundles.get(hash);
      expect(stored.hash).toBe(hash);
      expect(stored.filename).toBe("/app/workflows/order.ts.bundle.js");
      expect(stored.workflowIds).toEqual(["w1", "w2"]);
      expectBytes(stored.code, code);
      t.expectTime(stored.createdAt, t.now());
      await expectReject(t.world.bundles.get("b".repeat(64)), NotFoundError);
    });

    it("lists the stored hashes, and rewrites a bundle's bytes only if they are still the expected ones", async () => {
      const [one, two] = ["d".repeat(64), "e".repeat(64)];
      for (const hash of [one, two])
        await t.world.bundles.put({
          hash,
          filename: "/f.js",
          workflowIds: ["w"],
          code: new Uint8Array([1, 2]),
        });
      expect(new Set(await t.world.bundles.hashes())).toEqual(new Set([one, two]));
      // Compare-and-swap: the right old bytes replace them; stale ones change nothing.
      expect(await t.world.bundles.rewrite(one, new Uint8Array([1, 2]), new Uint8Array([3, 4, 5]))).toBe(
        true,
      );
      expect(await t.world.bundles.rewrite(one, new Uint8Array([1, 2]), new Uint8Array([9]))).toBe(false);
      expectBytes((await t.world.bundles.get(one)).code, new Uint8Array([3, 4, 5]));
      expectBytes((await t.world.bundles.get(two)).code, new Uint8Array([1, 2]));
      await expectReject(
        t.world.bundles.rewrite("f".repeat(64), new Uint8Array([1]), new Uint8Array([2])),
        NotFoundError,
      );
    });

    it("records the bundle hash a run is created with in its run_created event", async () => {
      const hash = "c".repeat(64);
      const one = await t.world.runs.create(runInput({ runId: "wrun_bundle_one", bundleHash: hash }));
      const [batched] = await t.world.runs.createMany([
        runInput({ runId: "wrun_bundle_two", bundleHash: hash }),
      ]);
      const plain = await t.world.runs.create(runInput({ runId: "wrun_bundle_none" }));
      for (const runId of [one.runId, batched?.run.runId ?? ""]) {
        const [created] = await t.world.events.list(runId);
        expect(created).toMatchObject({ type: "run_created", data: { bundleHash: hash } });
      }
      const [created] = await t.world.events.list(plain.runId);
      expect(created?.data).not.toHaveProperty("bundleHash");
    });

    /** The run's version as every read shows it: get, list (by workflow) and the append's result. */
    const versionsOf = async (runId: string): Promise<(string | undefined)[]> => {
      const listed = await t.world.runs.list({ limit: 1000 });
      const inList = listed.items.find((run) => run.runId === runId) as RunRecord;
      return [(await t.world.runs.get(runId)).bundleHash, inList.bundleHash];
    };

    it("keeps a run's version (bundleHash) from its creation, its start and its upgrades", async () => {
      const first = "d".repeat(64);
      const second = "e".repeat(64);
      const pinned = await t.world.runs.create(runInput({ runId: "wrun_version_pinned", bundleHash: first }));
      expect(pinned.bundleHash).toBe(first);
      const [batched] = await t.world.runs.createMany([
        runInput({ runId: "wrun_version_batched", bundleHash: first }),
      ]);
      expect(batched?.run.bundleHash).toBe(first);
      expect(await versionsOf(pinned.runId)).toEqual([first, first]);

      // A run started by a client without the code is pinned by its first run_started.
      const unpinned = await t.world.runs.create(runInput({ runId: "wrun_version_unpinned" }));
      expect(unpinned).not.toHaveProperty("bundleHash");
      expect(await versionsOf(unpinned.runId)).toEqual([undefined, undefined]);
      const started = await appendNext(t.world, unpinned.runId, [
        { type: "run_started", data: { bundleHash: second } },
      ]);
      expect(started.seq).toBe(2);
      expect((await t.world.runs.get(unpinned.runId)).bundleHash).toBe(second);
      expect(await versionsOf(unpinned.runId)).toEqual([second, second]);

      // A run_started that names none (the run was pinned at creation) leaves it as it is.
      await appendNext(t.world, pinned.runId, [{ type: "run_started", data: {} }]);
      expect(await versionsOf(pinned.runId)).toEqual([first, first]);

      // Upgraded: the latest wins, and the run's spec version is raised.
      const upgraded = await appendNext(t.world, pinned.runId, [
        { type: "run_upgraded", data: { fromHash: first, toHash: second } },
      ]);
      expect(upgraded.run.status).toBe("running");
      expect((await t.world.runs.get(pinned.runId)).bundleHash).toBe(second);
      expect(await versionsOf(pinned.runId)).toEqual([second, second]);
      expect((await t.world.runs.get(pinned.runId)).specVersion).toBe(UPGRADED_SPEC_VERSION);
      const again = await appendNext(t.world, pinned.runId, [
        { type: "run_upgraded", data: { fromHash: second, toHash: first } },
      ]);
      expect(again.seq).toBe(upgraded.seq + 1);
      expect((await t.world.runs.get(pinned.runId)).bundleHash).toBe(first);
      expect(await versionsOf(pinned.runId)).toEqual([first, first]);
      // The other runs did not move.
      expect(await versionsOf("wrun_version_batched")).toEqual([first, first]);
    });

    it("raises a run's spec version with run_upgraded, never lowers it", async () => {
      const hash = "f".repeat(64);
      const old = await t.world.runs.create(runInput({ runId: "wrun_version_old", specVersion: 3 }));
      expect(old.specVersion).toBe(3);
      // Other events leave it alone.
      await appendNext(t.world, old.runId, [{ type: "run_started", data: {} }]);
      expect((await t.world.runs.get(old.runId)).specVersion).toBe(3);
      // A run older than pinning is upgraded from no version.
      await appendNext(t.world, old.runId, [{ type: "run_upgraded", data: { toHash: hash } }]);
      expect(await t.world.runs.get(old.runId)).toMatchObject({
        specVersion: UPGRADED_SPEC_VERSION,
        bundleHash: hash,
      });
      const acquired = await t.world.runs.acquire(old.runId, "owner-v", 10_000);
      expect(acquired.run).toMatchObject({ specVersion: UPGRADED_SPEC_VERSION, bundleHash: hash });

      const newer = await t.world.runs.create(
        runInput({ runId: "wrun_version_newer", specVersion: UPGRADED_SPEC_VERSION + 2 }),
      );
      await appendNext(t.world, newer.runId, [{ type: "run_upgraded", data: { toHash: hash } }]);
      expect((await t.world.runs.get(newer.runId)).specVersion).toBe(UPGRADED_SPEC_VERSION + 2);
    });
  });
}
