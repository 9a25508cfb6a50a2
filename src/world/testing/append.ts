/**
 * Conformance: appending to a run's log. Sequence numbering, timestamps, reading the log back,
 * fencing on `expectedSeq`, the fixed order of the checks (finished, lease, sequence, shape, hook
 * tokens) and the request's side effects (enqueue, inbox takes, acks) in the same transaction.
 */
import { describe, expect, it } from "vitest";
import {
  ConflictError,
  LeaseLostError,
  RunFinishedError,
  RunNotFoundError,
  SequenceConflictError,
} from "../../errors/world.ts";
import type { NewEvent } from "../events.ts";
import {
  allBytes,
  appendNext,
  createRun,
  expectBytes,
  expectReject,
  hookCreated,
  startedRun,
  stepStarted,
  utf8,
} from "./fixtures.ts";
import { LONG, type WorldContext } from "./harness.ts";

export function describeAppend(t: WorldContext): void {
  describe("events.append", () => {
    it("numbers events after the last one and returns them with the new seq", async () => {
      const run = await createRun(t.world);
      const result = await t.world.events.append({
        runId: run.runId,
        expectedSeq: 1,
        events: [{ type: "run_started", data: {} }, stepStarted("step_a")],
      });
      expect(result.seq).toBe(3);
      expect(result.events.map((event) => [event.seq, event.type, event.runId])).toEqual([
        [2, "run_started", run.runId],
        [3, "step_started", run.runId],
      ]);
      expect(result.run.seq).toBe(3);
      expect((await t.world.runs.get(run.runId)).seq).toBe(3);
      const next = await t.world.events.append({
        runId: run.runId,
        expectedSeq: 3,
        events: [{ type: "step_completed", data: { stepId: "step_a", attempt: 1 } }],
      });
      expect(next.seq).toBe(4);
      expect((await t.world.events.list(run.runId)).map((event) => event.seq)).toEqual([1, 2, 3, 4]);
    });

    it("keeps an event's metadata as given, nested objects included (step logs)", async () => {
      const run = await createRun(t.world);
      const logs = { sealed: Buffer.from(utf8("output")).toString("base64"), lines: 2, truncated: true };
      const workflowLogs = { sealed: "AXsi", lines: 1, id: "log_01" };
      const appended = await appendNext(t.world, run.runId, [
        { type: "run_started", data: { workflowLogs } },
        stepStarted("step_a"),
      ]);
      const completed = await t.world.events.append({
        runId: run.runId,
        expectedSeq: appended.seq,
        events: [
          { type: "step_completed", data: { stepId: "step_a", attempt: 1, logs }, payload: utf8("r") },
        ],
      });
      expect(completed.events[0]?.data).toEqual({ stepId: "step_a", attempt: 1, logs });
      const events = await t.world.events.list(run.runId);
      expect(events.map((event) => event.data)).toEqual([
        expect.anything(),
        { workflowLogs },
        { stepId: "step_a", stepName: expect.any(String), attempt: 1 },
        { stepId: "step_a", attempt: 1, logs },
      ]);
      // Metadata is not payload: the run's byte count grew by the result's one byte only.
      expect((await t.world.runs.get(run.runId)).payloadBytes).toBe(run.payloadBytes + 1);
      expect((await t.world.steps.get(run.runId, "step_a")).status).toBe("completed");
    });

    it("reports the run narrowed to its id, status, seq and payload bytes, as stored", async () => {
      const run = await createRun(t.world, { input: utf8("input") });
      const started = await appendNext(t.world, run.runId, [
        { type: "run_started", data: {} },
        stepStarted("step_a", 1, utf8("args")),
      ]);
      const stored = await t.world.runs.get(run.runId);
      // Only what callers read: the rest (input, output, lease, ...) is `runs.get`'s to tell.
      expect(started.run).toEqual({
        runId: run.runId,
        status: "running",
        seq: 3,
        payloadBytes: stored.payloadBytes,
      });
      expect(stored.payloadBytes).toBe(9);
      const ended = await appendNext(t.world, run.runId, [
        { type: "step_completed", data: { stepId: "step_a", attempt: 1 }, payload: utf8("out") },
        { type: "run_completed", data: {}, payload: utf8("done") },
      ]);
      expect(ended.run).toEqual({ runId: run.runId, status: "completed", seq: 5, payloadBytes: 16 });
      expect((await t.world.runs.get(run.runId)).output).toEqual(utf8("done"));
    });

    it("the returned events are the stored ones", async () => {
      const run = await createRun(t.world);
      const result = await appendNext(t.world, run.runId, [
        { type: "run_started", data: {} },
        stepStarted("step_a", 1, utf8("args")),
      ]);
      const stored = await t.world.events.list(run.runId, { afterSeq: 1 });
      expect(stored).toEqual(result.events);
    });

    it("stamps events with the World's clock unless they carry createdAt", async () => {
      const run = await createRun(t.world);
      const result = await appendNext(t.world, run.runId, [
        { type: "run_started", data: {} },
        { ...stepStarted("step_a"), createdAt: 1_234 },
      ]);
      t.expectTime(result.events[0]?.createdAt, t.now());
      expect(result.events[1]?.createdAt).toBe(1_234);
      t.expectTime((await t.world.runs.get(run.runId)).updatedAt, t.now());
    });

    it("stores event data as JSON and payloads byte for byte", async () => {
      const run = await createRun(t.world);
      const meta = { nested: { list: [1, "two", null, true], unicode: "é😀", empty: {} }, n: 1.5 };
      const payload = allBytes();
      await appendNext(t.world, run.runId, [
        { type: "run_started", data: {} },
        stepStarted("step_a", 1, payload),
        { type: "hook_created", data: { hookId: "hook_a", token: "token-a", kind: "webhook", meta } },
        { type: "step_completed", data: { stepId: "step_a", attempt: 1 }, payload: new Uint8Array(0) },
      ]);
      const events = await t.world.events.list(run.runId);
      expect(events[1]?.payload).toBeUndefined();
      expectBytes(events[2]?.payload, payload);
      expect(events[3]?.data).toEqual({ hookId: "hook_a", token: "token-a", kind: "webhook", meta });
      expectBytes(events[4]?.payload, new Uint8Array(0));
    });

    it("keeps its own copy of payloads: reusing the caller's buffer changes nothing", async () => {
      const run = await createRun(t.world);
      const buffer = utf8("result");
      await appendNext(t.world, run.runId, [stepStarted("step_a", 1, buffer)]);
      buffer.fill(0);
      expectBytes((await t.world.events.list(run.runId))[1]?.payload, utf8("result"));
      expectBytes((await t.world.steps.get(run.runId, "step_a")).input, utf8("result"));
    });

    it("an append with no events checks fencing and applies the rest of the request", async () => {
      const run = await startedRun(t.world);
      const result = await appendNext(t.world, run.runId, [], {
        enqueue: [{ runId: run.runId, kind: "wake" }],
      });
      expect(result.seq).toBe(2);
      expect(result.events).toEqual([]);
      expect((await t.world.queue.list(run.runId)).map((message) => message.kind).sort()).toEqual([
        "start",
        "wake",
      ]);
      await expectReject(
        t.world.events.append({ runId: run.runId, expectedSeq: 1, events: [] }),
        SequenceConflictError,
      );
    });

    it("events.list pages with afterSeq and limit", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [stepStarted("a"), stepStarted("b"), stepStarted("c")]);
      const seqs = async (options?: { afterSeq?: number; limit?: number }) =>
        (await t.world.events.list(run.runId, options)).map((event) => event.seq);
      expect(await seqs()).toEqual([1, 2, 3, 4, 5]);
      expect(await seqs({ afterSeq: 2 })).toEqual([3, 4, 5]);
      expect(await seqs({ afterSeq: 1, limit: 2 })).toEqual([2, 3]);
      expect(await seqs({ limit: 1 })).toEqual([1]);
      expect(await seqs({ afterSeq: 5 })).toEqual([]);
      expect(await seqs({ afterSeq: 99 })).toEqual([]);
    });

    it("events.list and append of an unknown run throw RunNotFoundError", async () => {
      await expectReject(t.world.events.list("wrun_missing"), RunNotFoundError, true);
      await expectReject(
        t.world.events.append({ runId: "wrun_missing", expectedSeq: 1, events: [stepStarted("a")] }),
        RunNotFoundError,
        true,
      );
    });

    it("throws SequenceConflictError when the log has moved, naming both sequence numbers", async () => {
      const run = await startedRun(t.world);
      const behind = await expectReject(
        t.world.events.append({ runId: run.runId, expectedSeq: 1, events: [stepStarted("a")] }),
        SequenceConflictError,
        true,
      );
      expect(behind).toMatchObject({ runId: run.runId, expectedSeq: 1, actualSeq: 2 });
      const ahead = await expectReject(
        t.world.events.append({ runId: run.runId, expectedSeq: 7, events: [stepStarted("a")] }),
        SequenceConflictError,
        true,
      );
      expect(ahead).toMatchObject({ expectedSeq: 7, actualSeq: 2 });
      expect((await t.world.runs.get(run.runId)).seq).toBe(2);
    });

    it("rejects run_created, a terminal event that is not last, and releaseLease without owner", async () => {
      const run = await startedRun(t.world);
      const bad: NewEvent[][] = [
        [{ type: "run_created", data: { workflowName: "w", seed: "s", specVersion: 1 } }],
        [{ type: "run_completed", data: {} }, stepStarted("a")],
      ];
      for (const events of bad) {
        await expectReject(
          t.world.events.append({ runId: run.runId, expectedSeq: 2, events }),
          ConflictError,
          true,
        );
      }
      await expectReject(
        t.world.events.append({ runId: run.runId, expectedSeq: 2, events: [], releaseLease: true }),
        ConflictError,
        true,
      );
      expect((await t.world.events.list(run.runId)).length).toBe(2);
    });

    it("checks in a fixed order: finished, then lease, then sequence, then shape, then hook tokens", async () => {
      // Finished beats everything.
      const done = await startedRun(t.world);
      await t.world.runs.acquire(done.runId, "owner-a", LONG);
      await appendNext(t.world, done.runId, [{ type: "run_completed", data: {} }], { owner: "owner-a" });
      await t.world.runs.acquire(done.runId, "owner-b", LONG);
      const finished = await expectReject(
        t.world.events.append({
          runId: done.runId,
          expectedSeq: 1,
          owner: "owner-c",
          events: [{ type: "run_created", data: { workflowName: "w", seed: "s", specVersion: 1 } }],
        }),
        RunFinishedError,
        true,
      );
      expect(finished).toMatchObject({ runId: done.runId, status: "completed" });

      // Lease beats sequence and shape.
      const holder = await startedRun(t.world);
      const other = await startedRun(t.world);
      await appendNext(t.world, holder.runId, [hookCreated("hook_held", "held-token")]);
      await t.world.runs.acquire(other.runId, "owner-a", LONG);
      await expectReject(
        t.world.events.append({
          runId: other.runId,
          expectedSeq: 1,
          owner: "owner-b",
          events: [{ type: "run_created", data: { workflowName: "w", seed: "s", specVersion: 1 } }],
        }),
        LeaseLostError,
        true,
      );
      // Sequence beats shape and hook tokens.
      await expectReject(
        t.world.events.append({
          runId: other.runId,
          expectedSeq: 1,
          owner: "owner-a",
          events: [
            hookCreated("hook_x", "held-token"),
            { type: "run_created", data: { workflowName: "w", seed: "s", specVersion: 1 } },
          ],
        }),
        SequenceConflictError,
        true,
      );
      // Shape beats hook tokens.
      await expectReject(
        t.world.events.append({
          runId: other.runId,
          expectedSeq: 2,
          owner: "owner-a",
          events: [hookCreated("hook_x", "held-token"), { type: "run_failed", data: {} }, stepStarted("a")],
        }),
        ConflictError,
        true,
      );
      expect((await t.world.runs.get(other.runId)).seq).toBe(2);
    });

    it("enqueues the request's messages, at availableAt or now, honouring dedupe keys", async () => {
      const run = await startedRun(t.world);
      const other = await createRun(t.world);
      const at = t.now() + LONG;
      await appendNext(t.world, run.runId, [stepStarted("a")], {
        enqueue: [
          { runId: run.runId, kind: "wake", availableAt: at, dedupeKey: `wake:${run.runId}` },
          { runId: run.runId, kind: "wake", availableAt: at, dedupeKey: `wake:${run.runId}` },
          { runId: other.runId, kind: "poke" },
        ],
      });
      const mine = (await t.world.queue.list(run.runId)).filter((message) => message.kind === "wake");
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ availableAt: at, dedupeKey: `wake:${run.runId}`, deliveries: 0 });
      const theirs = (await t.world.queue.list(other.runId)).filter((message) => message.kind === "poke");
      expect(theirs).toHaveLength(1);
      t.expectTime(theirs[0]?.availableAt, t.now());
    });

    it("takes inbox items in the same transaction; unknown items are ignored", async () => {
      const run = await startedRun(t.world);
      const first = await t.world.inbox.put({ runId: run.runId, kind: "cancel" });
      const second = await t.world.inbox.put({ runId: run.runId, kind: "cancel" });
      await appendNext(t.world, run.runId, [stepStarted("a")], {
        consumeInbox: [first.itemId, "inbox_missing"],
      });
      expect((await t.world.inbox.list(run.runId)).map((item) => item.itemId)).toEqual([second.itemId]);
    });

    it("acknowledges the owner's claimed messages in the same transaction, and only those", async () => {
      const run = await startedRun(t.world);
      await t.world.runs.acquire(run.runId, "owner-a", LONG);
      const [start] = await t.world.queue.claim("owner-a", { limit: 1, leaseMs: LONG });
      await t.world.queue.enqueue([{ runId: run.runId, kind: "other" }]);
      const [other] = await t.world.queue.claim("owner-b", { limit: 1, leaseMs: LONG });
      await appendNext(t.world, run.runId, [stepStarted("a")], {
        owner: "owner-a",
        ack: [start?.messageId ?? "", other?.messageId ?? "", "msg_missing"],
      });
      expect((await t.world.queue.list(run.runId)).map((message) => message.messageId)).toEqual([
        other?.messageId,
      ]);
    });
  });
}
