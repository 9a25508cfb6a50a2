import { describe, expect, it } from "vitest";
import { callMatches, deliveryTarget, describeCall, planReplay } from "../../src/runtime/replay-plan.ts";
import type { EventRecord } from "../../src/world/events.ts";

let seq = 0;
function event<T extends EventRecord["type"]>(
  type: T,
  data: Extract<EventRecord, { type: T }>["data"],
  at = 1000,
): EventRecord {
  seq += 1;
  return { runId: "wrun_x", seq, type, data, createdAt: at + seq } as EventRecord;
}

describe("planReplay", () => {
  it("lists calls in call order and outcomes in log order", () => {
    seq = 0;
    const log = [
      event("run_created", { workflowName: "w", seed: "00", specVersion: 1 }),
      event("run_started", {}),
      event("step_started", { stepId: "step_a", stepName: "A", attempt: 1 }),
      event("step_started", { stepId: "step_b", stepName: "B", attempt: 1 }),
      event("step_completed", { stepId: "step_b", attempt: 1 }),
      event("wait_created", { waitId: "wait_c", resumeAt: 5000 }),
      event("step_completed", { stepId: "step_a", attempt: 1 }),
      event("hook_created", { hookId: "hook_d", token: "t", kind: "hook" }),
      event("hook_received", { hookId: "hook_d" }),
    ];
    const plan = planReplay(log);
    expect(plan.calls.map((call) => call.id)).toEqual(["step_a", "step_b", "wait_c", "hook_d"]);
    expect(plan.deliveries.map(deliveryTarget)).toEqual(["step_b", "step_a", "hook_d"]);
    expect(plan.calls[2]).toMatchObject({ kind: "sleep", resumeAt: 5000, status: "waiting" });
    expect(plan.terminal).toBeUndefined();
    expect(plan.lastEventAt).toBe(log.at(-1)?.createdAt);
  });

  it("keeps a step's latest attempt and whether it waits for a retry or was interrupted", () => {
    seq = 0;
    const plan = planReplay([
      event("step_started", { stepId: "s1", stepName: "A", attempt: 1 }),
      event("step_retrying", { stepId: "s1", attempt: 1, retryAt: 9000 }),
      event("step_started", { stepId: "s2", stepName: "B", attempt: 1 }),
      event("step_retrying", { stepId: "s2", attempt: 1, retryAt: 9000 }),
      event("step_started", { stepId: "s2", stepName: "B", attempt: 2 }),
    ]);
    expect(plan.calls[0]).toMatchObject({ id: "s1", attempt: 1, status: "retrying", retryAt: 9000 });
    // s2's second attempt has no outcome: its worker died while running it.
    expect(plan.calls[1]).toMatchObject({ id: "s2", attempt: 2, status: "running" });
    expect(plan.calls[1]).not.toHaveProperty("retryAt");
    expect(plan.deliveries).toHaveLength(0);
  });

  it("treats a hook conflict as both the call and its outcome, and records disposals", () => {
    seq = 0;
    const plan = planReplay([
      event("hook_conflict", { hookId: "h1", token: "taken" }),
      event("hook_created", { hookId: "h2", token: "mine", kind: "webhook" }),
      event("hook_disposed", { hookId: "h2" }),
    ]);
    expect(plan.calls).toEqual([
      {
        kind: "hook",
        id: "h1",
        token: "taken",
        webhook: false,
        disposed: true,
        conflicted: true,
        generation: 1,
        seq: 1,
      },
      {
        kind: "hook",
        id: "h2",
        token: "mine",
        webhook: true,
        disposed: true,
        conflicted: false,
        generation: 1,
        seq: 2,
      },
    ]);
    expect(plan.deliveries.map((d) => d.type)).toEqual(["hook_conflict"]);
  });

  it("plans event waits as calls and their events or timeouts as outcomes, in log order", () => {
    seq = 0;
    const plan = planReplay([
      event("event_wait_created", { waitId: "wait_a", eventType: "paid", timeoutAt: 7000 }),
      event("event_wait_created", { waitId: "wait_b", eventType: "shipped", timeoutAt: 8000 }),
      event("event_wait_created", { waitId: "wait_c", eventType: "paid", timeoutAt: 9000 }),
      event("event_wait_timed_out", { waitId: "wait_b" }),
      event("event_received", { waitId: "wait_a", eventId: "evt_1", eventType: "paid", sentAt: 1 }),
    ]);
    expect(plan.calls).toEqual([
      {
        kind: "event",
        id: "wait_a",
        eventType: "paid",
        timeoutAt: 7000,
        status: "resolved",
        generation: 1,
        seq: 1,
      },
      {
        kind: "event",
        id: "wait_b",
        eventType: "shipped",
        timeoutAt: 8000,
        status: "resolved",
        generation: 1,
        seq: 2,
      },
      {
        kind: "event",
        id: "wait_c",
        eventType: "paid",
        timeoutAt: 9000,
        status: "waiting",
        generation: 1,
        seq: 3,
      },
    ]);
    expect(plan.deliveries.map((d) => [d.type, deliveryTarget(d)])).toEqual([
      ["event_wait_timed_out", "wait_b"],
      ["event_received", "wait_a"],
    ]);
  });

  it("matches a waitForEvent only against an event wait of the same type", () => {
    const call = {
      kind: "event",
      id: "wait_a",
      eventType: "paid",
      timeoutAt: 1,
      status: "waiting",
      generation: 1,
      seq: 1,
    } as const;
    expect(callMatches(call, { kind: "event", eventType: "paid", timeoutAt: 2 }, "wait_a", undefined)).toBe(
      true,
    );
    expect(
      callMatches(call, { kind: "event", eventType: "shipped", timeoutAt: 1 }, "wait_a", undefined),
    ).toBe(false);
    expect(callMatches(call, { kind: "sleep", resumeAt: 1 }, "wait_a", undefined)).toBe(false);
    expect(describeCall(call)).toBe('waitForEvent("paid")');
  });

  it("notes the terminal event of an ended run", () => {
    seq = 0;
    const plan = planReplay([event("run_started", {}), event("run_failed", { reason: "x" })]);
    expect(plan.terminal?.type).toBe("run_failed");
  });
});
