/**
 * Conformance: events and event waits (`waitForEvent`, `sendEvent`). An event waits in the run's
 * inbox (kind "event", with its type) until an append records it as `event_received` and takes the
 * item; an event wait is a wait of kind "event" in the waits projection, completed by the event,
 * `timed_out` by `event_wait_timed_out`, cancelled when the run ends, and its id is checked against
 * the run's other waits like a sleep's.
 */
import { describe, expect, it } from "vitest";
import { ConflictError } from "../../errors/world.ts";
import type { NewEvent } from "../events.ts";
import { allBytes, appendNext, expectBytes, expectReject, snapshot, startedRun, utf8 } from "./fixtures.ts";
import { LONG, type WorldContext } from "./harness.ts";

function eventWait(waitId: string, eventType: string, timeoutAt: number): NewEvent {
  return { type: "event_wait_created", data: { waitId, eventType, timeoutAt } };
}

export function describeEvents(t: WorldContext): void {
  describe("events and event waits", () => {
    it("event_wait_created projects a wait of kind event, with its type and its timeout", async () => {
      const run = await startedRun(t.world);
      const timeoutAt = t.now() + LONG;
      const created = await appendNext(t.world, run.runId, [
        { type: "wait_created", data: { waitId: "wait_sleep", resumeAt: timeoutAt } },
        eventWait("wait_event", "payment.received", timeoutAt),
      ]);
      const at = created.events[0]?.createdAt;
      expect(await t.world.waits.list({ runId: run.runId })).toEqual([
        {
          runId: run.runId,
          waitId: "wait_sleep",
          kind: "sleep",
          resumeAt: timeoutAt,
          status: "waiting",
          createdAt: at,
        },
        {
          runId: run.runId,
          waitId: "wait_event",
          kind: "event",
          eventType: "payment.received",
          resumeAt: timeoutAt,
          status: "waiting",
          createdAt: at,
        },
      ]);
    });

    it("event_received completes the wait; event_wait_timed_out marks it timed_out", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [
        eventWait("wait_a", "approval", t.now() + LONG),
        eventWait("wait_b", "approval", t.now() + 10),
      ]);
      await t.advance(10);
      const received = await appendNext(t.world, run.runId, [
        {
          type: "event_received",
          data: { waitId: "wait_a", eventId: "evt_1", eventType: "approval", sentAt: t.now() },
          payload: utf8("yes"),
        },
      ]);
      await t.advance(10);
      const timedOut = await appendNext(t.world, run.runId, [
        { type: "event_wait_timed_out", data: { waitId: "wait_b" } },
      ]);
      const waits = await t.world.waits.list({ runId: run.runId });
      expect(waits.map((wait) => [wait.waitId, wait.status, wait.completedAt])).toEqual([
        ["wait_a", "completed", received.events[0]?.createdAt],
        ["wait_b", "timed_out", timedOut.events[0]?.createdAt],
      ]);
      expect((await t.world.waits.list({ status: "timed_out" })).map((wait) => wait.waitId)).toEqual([
        "wait_b",
      ]);
      expect(
        (await t.world.waits.list({ runId: run.runId, status: "completed" })).map((wait) => wait.waitId),
      ).toEqual(["wait_a"]);
      // The event's payload is in the log, where every payload is.
      const [event] = await t.world.events.list(run.runId, { afterSeq: received.seq - 1 });
      expect(event).toMatchObject({
        type: "event_received",
        data: { waitId: "wait_a", eventId: "evt_1", eventType: "approval" },
      });
      expectBytes(event?.payload, utf8("yes"));
    });

    it("a run that ends cancels its event waits, not the ones that ended", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [
        eventWait("wait_done", "a", t.now() + LONG),
        eventWait("wait_open", "b", t.now() + LONG),
      ]);
      const done = await appendNext(t.world, run.runId, [
        { type: "event_wait_timed_out", data: { waitId: "wait_done" } },
      ]);
      await t.advance(10);
      const ended = await appendNext(t.world, run.runId, [{ type: "run_cancelled", data: {} }]);
      const waits = await t.world.waits.list({ runId: run.runId });
      expect(waits.map((wait) => [wait.waitId, wait.status, wait.completedAt])).toEqual([
        ["wait_done", "timed_out", done.events[0]?.createdAt],
        ["wait_open", "cancelled", ended.events[0]?.createdAt],
      ]);
    });

    it("an event wait reusing a wait id of the run is a ConflictError and writes nothing", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [
        { type: "wait_created", data: { waitId: "wait_1", resumeAt: t.now() + LONG } },
      ]);
      const before = await snapshot(t.world, [run.runId]);
      await expectReject(
        appendNext(t.world, run.runId, [eventWait("wait_1", "x", t.now() + LONG)]),
        ConflictError,
        true,
      );
      // The same id twice in one append, after an event that would have been written.
      await expectReject(
        appendNext(t.world, run.runId, [
          { type: "step_started", data: { stepId: "step_1", stepName: "s", attempt: 1 } },
          eventWait("wait_2", "x", t.now() + LONG),
          eventWait("wait_2", "y", t.now() + LONG),
        ]),
        ConflictError,
        true,
      );
      expect(await snapshot(t.world, [run.runId])).toEqual(before);
    });

    it("an event waits in the inbox with its type, in the order events were put", async () => {
      const run = await startedRun(t.world);
      const payload = allBytes();
      const first = await t.world.inbox.put({
        itemId: "evt_first",
        runId: run.runId,
        kind: "event",
        eventType: "order.paid",
        payload,
      });
      expect(first).toMatchObject({ itemId: "evt_first", kind: "event", eventType: "order.paid" });
      expect(first.hookId).toBeUndefined();
      const hook = await t.world.inbox.put({ runId: run.runId, kind: "hook_payload", hookId: "h" });
      const second = await t.world.inbox.put({
        itemId: "evt_second",
        runId: run.runId,
        kind: "event",
        eventType: "order.paid",
        payload: utf8("2"),
      });
      const items = await t.world.inbox.list(run.runId);
      expect(items.map((item) => item.itemId)).toEqual(["evt_first", hook.itemId, "evt_second"]);
      expect(items[0]).toEqual(first);
      expectBytes(items[0]?.payload, payload);
      expect(items[2]).toEqual(second);
      expect(hook.eventType).toBeUndefined();
    });

    it("recording an event takes its item: the inbox's bytes move to the log", async () => {
      const run = await startedRun(t.world);
      await appendNext(t.world, run.runId, [eventWait("wait_1", "paid", t.now() + LONG)]);
      const payload = utf8("twelve bytes");
      const item = await t.world.inbox.put({
        itemId: "evt_1",
        runId: run.runId,
        kind: "event",
        eventType: "paid",
        payload,
      });
      const waiting = await t.world.runs.get(run.runId);
      expect(waiting.payloadBytes).toBe(run.payloadBytes + payload.length);
      const recorded = await appendNext(
        t.world,
        run.runId,
        [
          {
            type: "event_received",
            data: { waitId: "wait_1", eventId: item.itemId, eventType: "paid", sentAt: item.createdAt },
            payload,
          },
        ],
        { consumeInbox: [item.itemId] },
      );
      expect(recorded.run.payloadBytes).toBe(run.payloadBytes + payload.length);
      expect(await t.world.inbox.list(run.runId)).toEqual([]);
      expect((await t.world.waits.list({ runId: run.runId }))[0]?.status).toBe("completed");
    });
  });
}
