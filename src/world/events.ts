/**
 * The event types of a run's log and the metadata each carries. The log is the truth: runs, steps,
 * hooks and waits are projections of these events (see `projection.ts`). Payloads (step inputs and
 * outputs, hook payloads, errors) are opaque bytes produced by `serde/`; the metadata here is small,
 * plain JSON that every World stores as it is.
 */

export interface EventDataMap {
  /** The run exists. Payload: the serialized workflow arguments. */
  run_created: {
    workflowName: string;
    seed: string;
    specVersion: number;
    /** The workflow bundle the run started with (`bundles`); absent on runs older than pinning. */
    bundleHash?: string;
    /**
     * The W3C trace context the run's spans belong to (docs/tracing.md); absent when the run was
     * started without one (its spans then share a trace derived from the run's id).
     */
    traceparent?: string;
    tracestate?: string;
  };
  /** A worker began executing the run for the first time. */
  run_started: {
    /**
     * The workflow bundle the worker ran it with, when the run's `run_created` named none (it was
     * started by a process without the workflow code): the run is pinned to it from then on.
     */
    bundleHash?: string;
  };
  /** An attempt of a step began. On attempt 1 the payload is the serialized arguments. */
  step_started: { stepId: string; stepName: string; attempt: number };
  /**
   * The step returned. Payload: the serialized result. `logs`: what the attempt printed, if it
   * printed anything (as on `step_retrying` and `step_failed`).
   */
  step_completed: { stepId: string; attempt: number; logs?: SealedLogs };
  /** An attempt failed and another will follow at `retryAt`. Payload: the serialized error. */
  step_retrying: { stepId: string; attempt: number; retryAt: number; logs?: SealedLogs };
  /** The step failed for good (fatal error, or attempts exhausted). Payload: the serialized error. */
  step_failed: { stepId: string; attempt: number; fatal: boolean; logs?: SealedLogs };
  /** The workflow began a durable sleep until `resumeAt`. */
  wait_created: { waitId: string; resumeAt: number };
  /** A sleep ended. */
  wait_completed: { waitId: string };
  /**
   * The workflow began waiting for an event of `eventType` (`waitForEvent`), until `timeoutAt` at
   * the latest. Its id is a wait id: the wait is projected with the sleeps (`WaitRecord.kind`).
   */
  event_wait_created: { waitId: string; eventType: string; timeoutAt: number };
  /**
   * An event sent to the run (`sendEvent`, kept in its inbox as item `eventId` since `sentAt`) was
   * delivered to the wait. Payload: the serialized event payload.
   */
  event_received: { waitId: string; eventId: string; eventType: string; sentAt: number };
  /** The wait reached its timeout without an event: the workflow receives a `WaitTimeoutError`. */
  event_wait_timed_out: { waitId: string };
  /** The workflow created a hook (or a webhook) listening on `token`. */
  hook_created: { hookId: string; token: string; kind: "hook" | "webhook"; meta?: Record<string, unknown> };
  /** The hook's token was already held by another active hook; the workflow receives an error. */
  hook_conflict: { hookId: string; token: string; heldByRunId?: string };
  /** A payload arrived for a hook. Payload: the serialized hook payload. */
  hook_received: { hookId: string; inboxId?: string };
  /** The hook stopped listening; its token is free again. */
  hook_disposed: { hookId: string };
  /** The workflow returned. Payload: the serialized return value. */
  run_completed: Record<string, never>;
  /** The workflow threw, or the runtime failed it (non-determinism). Payload: the serialized error. */
  run_failed: { reason?: string };
  /** The run was cancelled (`reason` "restart" when a restart stopped it). */
  run_cancelled: { reason?: string };
  /**
   * A pause was asked for while steps were executing: the run takes no new step, sleep, hook
   * payload or event, and pauses once they end (status `pausing`). With `abortSteps`, their
   * signals were aborted.
   */
  run_pausing: { abortSteps?: boolean };
  /** The run is paused (status `paused`): nothing executes until it is resumed. */
  run_paused: Record<string, never>;
  /** The run was resumed: what came due or arrived while it was paused is delivered now. */
  run_resumed: Record<string, never>;
  /**
   * The run calls step `stepName` (id `stepId`), whose code the worker that took it does not have
   * (a deploy removed or renamed it): the run waits, unchanged, for a worker that has it. Recorded
   * by that worker once, not again while nothing else happens in the run; a replay passes over it.
   */
  step_unavailable: { stepId: string; stepName: string };
  /**
   * The run begins again under the same id (`run.restart()`): generation `generation` (the first
   * is 1, everything before the first restart) starts here and may follow the previous one's end.
   * It keeps the calls of the previous generation whose call index is below `fromCall` (0: none,
   * a restart from the beginning) with all their recorded outcomes; `step` and `occurrence` name
   * the call it restarts from. `hooks` and `waits` are the kept hooks and waits that were still
   * listening or waiting when the previous generation ended: they listen and wait again.
   */
  run_restarted: {
    generation: number;
    fromCall: number;
    step?: string;
    occurrence?: number;
    hooks?: string[];
    waits?: string[];
  };
  /**
   * The run was moved to another version of its workflow code (`npx stepwise upgrade`), after its
   * log replayed cleanly against it: it replays with bundle `toHash` from here on. `fromHash` is
   * the version it was pinned to before (absent for a run older than pinning). A replay passes
   * over it. The World raises the run's `specVersion` to at least `UPGRADED_SPEC_VERSION`.
   */
  run_upgraded: { fromHash?: string; toHash: string };
}

export type EventType = keyof EventDataMap;

/**
 * Console output stored with an event (step logs, docs/architecture.md "Step logs"): a payload
 * like the others (envelope, devalue text, encrypted when the run is), kept base64 in the event's
 * metadata so that no World stores anything new and older workers pass over it. `sealed` holds
 * `{ lines: [{ at, level, text }], truncated?: { lines, bytes } }` at the place
 * `places.stepLogs(stepId, attempt)` (a step attempt's) or `places.workflowLogs(id)` (the
 * workflow body's); `lines` counts what it holds, `truncated` says output was left out.
 */
export type SealedLogs = {
  sealed: string;
  lines: number;
  /** Set on the workflow body's output: its place's id. */
  id?: string;
  truncated?: boolean;
};

/**
 * Fields any event may carry: `workflowLogs` is what the workflow body printed (outside replay)
 * since the run's previous append, stored on the first event of the append that follows it.
 */
export type EventOutputFields = {
  workflowLogs?: SealedLogs;
};

export const EVENT_TYPES: readonly EventType[] = [
  "run_created",
  "run_started",
  "step_started",
  "step_completed",
  "step_retrying",
  "step_failed",
  "wait_created",
  "wait_completed",
  "event_wait_created",
  "event_received",
  "event_wait_timed_out",
  "hook_created",
  "hook_conflict",
  "hook_received",
  "hook_disposed",
  "run_completed",
  "run_failed",
  "run_cancelled",
  "run_pausing",
  "run_paused",
  "run_resumed",
  "step_unavailable",
  "run_restarted",
  "run_upgraded",
];

/**
 * The spec version a `run_upgraded` raises its run to (if it is lower): a worker that does not
 * know the event would replay the run with the code it was pinned to before, so it must leave
 * the run alone (runtime/version.ts, history entry 5).
 */
export const UPGRADED_SPEC_VERSION = 5;

/** Event types that end a run; nothing may follow them in the log. */
export const TERMINAL_EVENT_TYPES: ReadonlySet<EventType> = new Set([
  "run_completed",
  "run_failed",
  "run_cancelled",
]);

/** An event as a caller hands it to `events.append`. */
export type NewEvent = {
  [K in EventType]: {
    type: K;
    data: EventDataMap[K] & EventOutputFields;
    /** Serialized payload bytes (see the per-type notes above), when the type has one. */
    payload?: Uint8Array;
    /** Epoch ms; the World fills in its clock when omitted. */
    createdAt?: number;
  };
}[EventType];

/** An event as stored: numbered within its run, from 1. */
export type EventRecord = {
  [K in EventType]: {
    runId: string;
    seq: number;
    type: K;
    data: EventDataMap[K] & EventOutputFields;
    payload?: Uint8Array;
    createdAt: number;
  };
}[EventType];

/** Narrows an event record to one type. */
export function isEventOfType<K extends EventType>(
  event: EventRecord,
  type: K,
): event is Extract<EventRecord, { type: K }> {
  return event.type === type;
}
