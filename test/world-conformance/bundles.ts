/**
 * Conformance: workflow bundles (`bundles`), the code runs are pinned to. A bundle is stored once
 * under its hash — storing it again changes nothing, whatever else the second copy says — and read
 * back byte for byte; an unknown hash is a `NotFoundError`. A run created with a `bundleHash`
 * carries it in its `run_created` event, alone or in a batch.
 */
import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../src/errors/world.ts";
import { allBytes, expectBytes, expectReject, runInput } from "./fixtures.ts";
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
  });
}
