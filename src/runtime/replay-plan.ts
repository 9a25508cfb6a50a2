/**
 * Reads a run's event log into a replay plan, and matches calls against it: the calls the workflow made, in call order, each
 * with the state the log left it in, and the outcomes to hand back to the workflow, in log order.
 * Replaying means running the workflow again, checking each call against `calls`, and delivering
 * `deliveries` one at a time, in order, with every microtask drained in between.
 */

import type { Command } from "../workflow/protocol.ts";
import type { EventRecord, EventType } from "../world/events.ts";
import { type GenerationEvent, generationsOf } from "./generations.ts";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The events that become deliveries (`PlannedDelivery`). */
const OUTCOME_EVENTS: ReadonlySet<EventType> = new Set<EventType>([
  "step_completed",
  "step_failed",
  "wait_completed",
  "event_received",
  "event_wait_timed_out",
  "hook_received",
  "hook_conflict",
]);

export type PlannedCall = (
  | {
      kind: "step";
      id: string;
      name: string;
      /** The last attempt the log started. */
      attempt: number;
      /**
       * The stored arguments (the first `step_started`'s payload; absent when they were refused
       * before they could be stored): a replay compares the arguments the code passes now with them.
       */
      args?: Uint8Array;
      /** "running" when the last attempt has no outcome (its worker died or is still at it). */
      status: "running" | "retrying" | "resolved";
      retryAt?: number;
    }
  | { kind: "sleep"; id: string; resumeAt: number; status: "waiting" | "resolved" }
  | { kind: "event"; id: string; eventType: string; timeoutAt: number; status: "waiting" | "resolved" }
  | { kind: "hook"; id: string; token: string; webhook: boolean; disposed: boolean; conflicted: boolean }
) & {
  /** The generation that made the call (its id is derived with it). */
  generation: number;
  /** The event that recorded the call (for messages: where a replay diverged). */
  seq: number;
};

export type PlannedDelivery = Extract<
  EventRecord,
  {
    type:
      | "step_completed"
      | "step_failed"
      | "wait_completed"
      | "event_received"
      | "event_wait_timed_out"
      | "hook_received"
      | "hook_conflict";
  }
>;

export interface ReplayPlan {
  calls: PlannedCall[];
  deliveries: PlannedDelivery[];
  /** Set when the log already ended the run (its current generation). */
  terminal?: EventRecord;
  /** Time of the last event, so a resumed clock never goes backwards. */
  lastEventAt: number;
  /** The run's current generation (1 before its first restart; `generations.ts`). */
  generation: number;
  /** How many calls (the first ones) the current generation kept from earlier ones. */
  keptCalls: number;
  /** How many deliveries (the first ones) are outcomes kept from earlier generations. */
  keptDeliveries: number;
  /** The current generation has its `run_started`. */
  started: boolean;
}

/**
 * The plan of the run's current generation: the calls and outcomes it keeps from earlier
 * generations (`generations.ts`), then its own.
 */
export function planReplay(log: readonly EventRecord[]): ReplayPlan {
  const generations = generationsOf(log);
  const plan = planEvents(generations.events, generations.kept);
  plan.generation = generations.generation;
  plan.keptCalls = generations.keptCalls;
  plan.started = generations.own.some((event) => event.type === "run_started");
  for (const event of log) plan.lastEventAt = Math.max(plan.lastEventAt, event.createdAt);
  return plan;
}

/**
 * Plans the given events (a generation's, the first `kept` of them kept from earlier generations)
 * as one stretch of replay. The generation fields are left for `planReplay` to fill in.
 */
export function planEvents(events: readonly GenerationEvent[], kept = 0): ReplayPlan {
  const calls: PlannedCall[] = [];
  const byId = new Map<string, PlannedCall>();
  const deliveries: PlannedDelivery[] = [];
  let terminal: EventRecord | undefined;
  let lastEventAt = 0;
  let keptDeliveries = 0;
  let generation = 1;

  let seq = 0;
  const add = (call: DistributiveOmit<PlannedCall, "generation" | "seq">): void => {
    const planned = { ...call, generation, seq } as PlannedCall;
    calls.push(planned);
    byId.set(call.id, planned);
  };

  for (const [position, entry] of events.entries()) {
    const { event } = entry;
    generation = entry.generation;
    seq = event.seq;
    if (position < kept && OUTCOME_EVENTS.has(event.type)) keptDeliveries += 1;
    lastEventAt = Math.max(lastEventAt, event.createdAt);
    switch (event.type) {
      case "step_started": {
        const existing = byId.get(event.data.stepId);
        if (existing?.kind === "step") {
          existing.attempt = event.data.attempt;
          existing.status = "running";
          delete existing.retryAt;
        } else if (existing === undefined) {
          add({
            kind: "step",
            id: event.data.stepId,
            name: event.data.stepName,
            attempt: event.data.attempt,
            status: "running",
            ...(event.payload === undefined ? {} : { args: event.payload }),
          });
        }
        break;
      }
      case "step_retrying": {
        const call = byId.get(event.data.stepId);
        if (call?.kind === "step") {
          call.status = "retrying";
          call.retryAt = event.data.retryAt;
        }
        break;
      }
      case "step_completed":
      case "step_failed": {
        const call = byId.get(event.data.stepId);
        if (call?.kind === "step") call.status = "resolved";
        deliveries.push(event);
        break;
      }
      case "wait_created":
        add({ kind: "sleep", id: event.data.waitId, resumeAt: event.data.resumeAt, status: "waiting" });
        break;
      case "wait_completed": {
        const call = byId.get(event.data.waitId);
        if (call?.kind === "sleep") call.status = "resolved";
        deliveries.push(event);
        break;
      }
      case "event_wait_created":
        add({
          kind: "event",
          id: event.data.waitId,
          eventType: event.data.eventType,
          timeoutAt: event.data.timeoutAt,
          status: "waiting",
        });
        break;
      case "event_received":
      case "event_wait_timed_out": {
        const call = byId.get(event.data.waitId);
        if (call?.kind === "event") call.status = "resolved";
        deliveries.push(event);
        break;
      }
      case "hook_created":
        add({
          kind: "hook",
          id: event.data.hookId,
          token: event.data.token,
          webhook: event.data.kind === "webhook",
          disposed: false,
          conflicted: false,
        });
        break;
      case "hook_conflict":
        add({
          kind: "hook",
          id: event.data.hookId,
          token: event.data.token,
          webhook: false,
          disposed: true,
          conflicted: true,
        });
        deliveries.push(event);
        break;
      case "hook_received":
        deliveries.push(event);
        break;
      case "hook_disposed": {
        const call = byId.get(event.data.hookId);
        if (call?.kind === "hook") call.disposed = true;
        break;
      }
      case "run_completed":
      case "run_failed":
      case "run_cancelled":
        terminal = event;
        break;
      case "run_created":
      case "run_started":
      case "run_restarted":
      // The run's code moved (`npx stepwise upgrade`): nothing for the workflow to replay.
      case "run_upgraded":
        break;
    }
  }
  const plan: ReplayPlan = {
    calls,
    deliveries,
    lastEventAt,
    generation,
    keptCalls: 0,
    keptDeliveries,
    started: false,
  };
  if (terminal !== undefined) plan.terminal = terminal;
  return plan;
}

/** The id a delivery is for. */
export function deliveryTarget(event: PlannedDelivery): string {
  switch (event.type) {
    case "step_completed":
    case "step_failed":
      return event.data.stepId;
    case "wait_completed":
    case "event_received":
    case "event_wait_timed_out":
      return event.data.waitId;
    case "hook_received":
    case "hook_conflict":
      return event.data.hookId;
  }
}

/** Whether a call the workflow makes now is the call the log recorded at that position. */
export function callMatches(
  call: PlannedCall,
  command: Command,
  id: string,
  token: string | undefined,
): boolean {
  if (call.id !== id) return false;
  switch (call.kind) {
    case "step":
      return command.kind === "step" && command.name === call.name;
    case "sleep":
      return command.kind === "sleep";
    case "event":
      return command.kind === "event" && command.eventType === call.eventType;
    case "hook":
      return command.kind === "hook" && call.token === token;
  }
}

/** A recorded call, for messages. */
export function describeCall(call: PlannedCall): string {
  switch (call.kind) {
    case "step":
      return `step "${call.name}"`;
    case "sleep":
      return "sleep()";
    case "event":
      return `waitForEvent("${call.eventType}")`;
    case "hook":
      return `a hook on token "${call.token}"`;
  }
}

/** A call the workflow makes, for messages. */
export function describeCommand(command: Command): string {
  switch (command.kind) {
    case "step":
      return `step "${command.name}"`;
    case "sleep":
      return "sleep()";
    case "event":
      return `waitForEvent("${command.eventType}")`;
    case "hook":
      return command.token === undefined ? "a hook" : `a hook on token "${command.token}"`;
  }
}

/** What an id names, for messages. */
export function describeId(id: string): string {
  if (id.startsWith("step_")) return `step ${id}`;
  if (id.startsWith("wait_")) return `wait ${id} (a sleep or waitForEvent)`;
  return `hook ${id}`;
}
