/**
 * Conformance: closing a World. `close()` finishes what was already asked (a pending append still
 * lands), after which every call rejects.
 */
import { describe, expect, it } from "vitest";
import { ConflictError } from "../../errors/world.ts";
import { createRun, expectReject, startedRun, stepStarted } from "./fixtures.ts";
import type { WorldContext } from "./harness.ts";

export function describeLifecycle(t: WorldContext): void {
  describe("close", () => {
    it("an append issued before close still completes", async () => {
      const run = await startedRun(t.world);
      const pending = t.world.events.append({ runId: run.runId, expectedSeq: 2, events: [stepStarted("a")] });
      await t.world.close();
      expect((await pending).seq).toBe(3);
    });

    it("after close, calls reject with ConflictError", async () => {
      const run = await createRun(t.world);
      await t.world.close();
      const calls: (() => Promise<unknown>)[] = [
        () => createRun(t.world),
        () => t.world.runs.get(run.runId),
        () => t.world.runs.list(),
        () => t.world.runs.acquire(run.runId, "owner-a", 1000),
        () => t.world.events.append({ runId: run.runId, expectedSeq: 1, events: [stepStarted("a")] }),
        () => t.world.events.list(run.runId),
        () => t.world.steps.list(run.runId),
        () => t.world.hooks.list(),
        () => t.world.waits.list(),
        () => t.world.queue.claim("owner-a", { limit: 1, leaseMs: 1000 }),
        () => t.world.queue.nextAvailableAt(),
        () => t.world.inbox.put({ runId: run.runId, kind: "cancel" }),
        () => t.world.streams.write(run.runId, "s", []),
      ];
      for (const call of calls) await expectReject(call(), ConflictError, true);
    });
  });
}
