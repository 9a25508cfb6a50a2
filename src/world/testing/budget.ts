/**
 * Conformance: what a run records for its payloads. `encrypted` is kept as created; `payloadBytes`
 * counts every payload byte stored for the run — its log, its stream chunks, its waiting inbox
 * items — and an inbox put or a stream write that would take the run past `maxRunBytes` is refused
 * with `PayloadTooLargeError`, writing nothing, however many writers race for the last bytes.
 */
import { describe, expect, it } from "vitest";
import { PayloadTooLargeError } from "../../errors/runtime.ts";
import { ConflictError } from "../../errors/world.ts";
import {
  appendNext,
  bytes,
  createRun,
  expectReject,
  hookCreated,
  snapshot,
  startedRun,
  stepStarted,
} from "./fixtures.ts";
import type { WorldContext } from "./harness.ts";

const sized = (n: number): Uint8Array => new Uint8Array(n).fill(7);

export function describeBudget(t: WorldContext): void {
  describe("run payload budget and encryption flag", () => {
    it("a run keeps the encryption flag it was created with", async () => {
      const plain = await createRun(t.world, { encrypted: false });
      const sealed = await createRun(t.world, { encrypted: true });
      expect(plain.encrypted).toBe(false);
      expect(sealed.encrypted).toBe(true);
      expect((await t.world.runs.get(sealed.runId)).encrypted).toBe(true);
      const after = await appendNext(t.world, sealed.runId, [{ type: "run_started", data: {} }]);
      expect(after.seq).toBe(2);
      expect((await t.world.runs.get(sealed.runId)).encrypted).toBe(true);
      const listed = await t.world.runs.list({});
      expect(listed.items.find((run) => run.runId === sealed.runId)?.encrypted).toBe(true);
      expect(listed.items.find((run) => run.runId === plain.runId)?.encrypted).toBe(false);
    });

    it("counts the input, every event payload, stream chunks and waiting inbox payloads", async () => {
      const run = await createRun(t.world, { input: sized(10) });
      expect(run.payloadBytes).toBe(10);
      const started = await appendNext(t.world, run.runId, [
        { type: "run_started", data: {} },
        stepStarted("step_1", 1, sized(100)),
      ]);
      expect(started.run.payloadBytes).toBe(110);
      await t.world.streams.write(run.runId, "default", [sized(20), sized(30)]);
      expect((await t.world.runs.get(run.runId)).payloadBytes).toBe(160);
      await t.world.inbox.put({ runId: run.runId, kind: "hook_payload", hookId: "h", payload: sized(40) });
      await t.world.inbox.put({ runId: run.runId, kind: "cancel" });
      expect((await t.world.runs.get(run.runId)).payloadBytes).toBe(200);
    });

    it("an inbox item taken by an append gives its bytes back; a recorded payload counts in its event", async () => {
      const run = await startedRun(t.world, { input: sized(10) });
      await appendNext(t.world, run.runId, [hookCreated("hook_b1", "token-b1")]);
      const kept = await t.world.inbox.put({
        runId: run.runId,
        kind: "hook_payload",
        hookId: "hook_b1",
        payload: sized(50),
      });
      const dropped = await t.world.inbox.put({
        runId: run.runId,
        kind: "hook_payload",
        hookId: "hook_b1",
        payload: sized(70),
      });
      expect((await t.world.runs.get(run.runId)).payloadBytes).toBe(130);
      const result = await appendNext(
        t.world,
        run.runId,
        [
          {
            type: "hook_received",
            data: { hookId: "hook_b1", inboxId: kept.itemId },
            payload: kept.payload as Uint8Array,
          },
        ],
        { consumeInbox: [kept.itemId, dropped.itemId, "inbox_gone"] },
      );
      expect(result.run.payloadBytes).toBe(60);
      expect((await t.world.runs.get(run.runId)).payloadBytes).toBe(60);
    });

    it("puts an inbox item under the id the caller chose; a taken id is a ConflictError", async () => {
      const run = await startedRun(t.world);
      const item = await t.world.inbox.put({
        itemId: "inbox_chosen_1",
        runId: run.runId,
        kind: "hook_payload",
        hookId: "h",
        payload: bytes(1),
      });
      expect(item.itemId).toBe("inbox_chosen_1");
      expect((await t.world.inbox.list(run.runId)).map((i) => i.itemId)).toEqual(["inbox_chosen_1"]);
      const before = await snapshot(t.world, [run.runId]);
      await expectReject(
        t.world.inbox.put({ itemId: "inbox_chosen_1", runId: run.runId, kind: "cancel" }),
        ConflictError,
      );
      expect(await snapshot(t.world, [run.runId])).toEqual(before);
    });

    it("refuses an inbox payload past maxRunBytes, writing nothing, and accepts one that fits exactly", async () => {
      const run = await startedRun(t.world, { input: sized(100) });
      const before = await snapshot(t.world, [run.runId]);
      const error = await expectReject(
        t.world.inbox.put(
          { runId: run.runId, kind: "hook_payload", hookId: "h", payload: sized(901) },
          { maxRunBytes: 1000 },
        ),
        PayloadTooLargeError,
      );
      expect(error.message).toContain(run.runId);
      expect(error.message).toContain("limit per run");
      expect(await snapshot(t.world, [run.runId])).toEqual(before);
      await t.world.inbox.put(
        { runId: run.runId, kind: "hook_payload", hookId: "h", payload: sized(900) },
        { maxRunBytes: 1000 },
      );
      expect((await t.world.runs.get(run.runId)).payloadBytes).toBe(1000);
      // A cancel carries no payload: it always fits.
      await t.world.inbox.put({ runId: run.runId, kind: "cancel" }, { maxRunBytes: 1000 });
    });

    it("refuses a stream write past maxRunBytes, writing none of its chunks", async () => {
      const run = await startedRun(t.world, { input: sized(100) });
      await t.world.streams.write(run.runId, "s", [sized(400)], { maxRunBytes: 1000 });
      const before = await snapshot(t.world, [run.runId]);
      await expectReject(
        t.world.streams.write(run.runId, "s", [sized(300), sized(201)], { maxRunBytes: 1000 }),
        PayloadTooLargeError,
      );
      expect(await snapshot(t.world, [run.runId])).toEqual(before);
      const info = await t.world.streams.write(run.runId, "s", [sized(250), sized(250)], {
        maxRunBytes: 1000,
      });
      expect(info.length).toBe(3);
      expect((await t.world.runs.get(run.runId)).payloadBytes).toBe(1000);
    });

    it("concurrent puts racing for the last bytes never take the run past its limit", async () => {
      const run = await startedRun(t.world, { input: sized(0) });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 40 }, () =>
          t.world.inbox.put(
            { runId: run.runId, kind: "hook_payload", hookId: "h", payload: sized(100) },
            { maxRunBytes: 1000 },
          ),
        ),
      );
      const stored = outcomes.filter((outcome) => outcome.status === "fulfilled").length;
      const refused = outcomes.filter(
        (outcome) => outcome.status === "rejected" && PayloadTooLargeError.is(outcome.reason),
      ).length;
      expect(stored).toBe(10);
      expect(refused).toBe(30);
      expect((await t.world.inbox.list(run.runId)).length).toBe(10);
      expect((await t.world.runs.get(run.runId)).payloadBytes).toBe(1000);
    });
  });
}
