/**
 * Conformance: notices said once per storage (`World.notices.record`). The first record of a key
 * says "say it" (true), every later one "already said" (false); keys are independent; of
 * concurrent first records exactly one wins.
 */
import { describe, expect, it } from "vitest";
import type { WorldContext } from "./harness.ts";

export function describeNotices(t: WorldContext): void {
  describe("notices", () => {
    it("records a key once: true the first time, false ever after", async () => {
      expect(await t.world.notices.record("conformance/plaintext")).toBe(true);
      expect(await t.world.notices.record("conformance/plaintext")).toBe(false);
      expect(await t.world.notices.record("conformance/plaintext")).toBe(false);
      expect(await t.world.notices.record("conformance/other")).toBe(true);
      expect(await t.world.notices.record("conformance/other")).toBe(false);
    });

    it("of concurrent first records, exactly one is true", async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => t.world.notices.record("conformance/race")),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}
