/**
 * Conformance: creating and reading runs. `runs.create` writes the run, its `run_created` event
 * (seq 1, the input as payload) and a "start" message in one go. What an existing id does is in
 * `create.ts`.
 */
import { describe, expect, it } from "vitest";
import { RunNotFoundError } from "../../errors/world.ts";
import { allBytes, createRun, expectBytes, expectReject, runInput, utf8, WORKFLOW } from "./fixtures.ts";
import type { WorldContext } from "./harness.ts";

export function describeRuns(t: WorldContext): void {
  describe("runs", () => {
    it("create returns a pending run at seq 1 with no lease", async () => {
      const input = runInput({ specVersion: 3, seed: "seed-1" });
      const run = await t.world.runs.create(input);
      expect(run).toMatchObject({
        runId: input.runId,
        workflowName: WORKFLOW,
        status: "pending",
        seq: 1,
        specVersion: 3,
        seed: "seed-1",
        wakePending: false,
      });
      expect(run.lease).toBeUndefined();
      expect(run.output).toBeUndefined();
      expect(run.error).toBeUndefined();
      expect(run.startedAt).toBeUndefined();
      expect(run.completedAt).toBeUndefined();
      expectBytes(run.input, input.input);
      t.expectTime(run.createdAt, t.now());
      expect(run.updatedAt).toBe(run.createdAt);
    });

    it("get returns the run as create returned it", async () => {
      const run = await createRun(t.world);
      expect(await t.world.runs.get(run.runId)).toEqual(run);
    });

    it("keeps a given createdAt", async () => {
      const run = await createRun(t.world, { createdAt: 1_600_000_000_000 });
      expect(run.createdAt).toBe(1_600_000_000_000);
      expect((await t.world.runs.get(run.runId)).createdAt).toBe(1_600_000_000_000);
      const [created] = await t.world.events.list(run.runId);
      expect(created?.createdAt).toBe(1_600_000_000_000);
    });

    it("get of an unknown run throws RunNotFoundError naming the run", async () => {
      const error = await expectReject(t.world.runs.get("wrun_missing"), RunNotFoundError, true);
      expect(error.runId).toBe("wrun_missing");
    });

    it("run_created is event 1, with the workflow's name, seed and spec version, and the input as payload", async () => {
      const input = runInput({ specVersion: 2, seed: "s33d" });
      const run = await t.world.runs.create(input);
      const events = await t.world.events.list(run.runId);
      expect(events).toHaveLength(1);
      const [created] = events;
      expect(created).toMatchObject({
        runId: run.runId,
        seq: 1,
        type: "run_created",
        data: { workflowName: WORKFLOW, seed: "s33d", specVersion: 2 },
        createdAt: run.createdAt,
      });
      expectBytes(created?.payload, input.input);
    });

    it('enqueues one claimable "start" message for the run', async () => {
      const run = await createRun(t.world);
      const messages = await t.world.queue.list(run.runId);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ runId: run.runId, kind: "start", deliveries: 0 });
      expect(messages[0]?.lease).toBeUndefined();
      const claimed = await t.world.queue.claim("worker-a", { limit: 10, leaseMs: 1000 });
      expect(claimed.map((message) => message.messageId)).toEqual([messages[0]?.messageId]);
    });

    it("stores the input byte for byte, empty input included", async () => {
      const full = await createRun(t.world, { input: allBytes() });
      const empty = await createRun(t.world, { input: new Uint8Array(0) });
      expectBytes((await t.world.runs.get(full.runId)).input, allBytes());
      expectBytes((await t.world.runs.get(empty.runId)).input, new Uint8Array(0));
      expectBytes((await t.world.events.list(empty.runId))[0]?.payload, new Uint8Array(0));
    });

    it("keeps its own copy of the input: reusing the caller's buffer changes nothing", async () => {
      const buffer = utf8("abc");
      const run = await createRun(t.world, { input: buffer });
      buffer.fill(0);
      expectBytes((await t.world.runs.get(run.runId)).input, utf8("abc"));
    });

    it("list finds the runs it created, newest first", async () => {
      const a = await createRun(t.world, { createdAt: 1000 });
      const b = await createRun(t.world, { createdAt: 2000 });
      const page = await t.world.runs.list();
      expect(page.items.map((run) => run.runId)).toEqual([b.runId, a.runId]);
      expect(page.items[0]).toEqual(await t.world.runs.get(b.runId));
      expect(page.nextCursor).toBeUndefined();
    });
  });
}
