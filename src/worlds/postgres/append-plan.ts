/**
 * The TypeScript half of an append: everything that needs no database state, done before the
 * request leaves the process. The events are numbered (if the append succeeds, the log ends at
 * `expectedSeq`, so event i gets `expectedSeq + i + 1`), copied (the caller may reuse its buffers),
 * turned into projection effects by the shared `projectEvent` (step effects folded to one write per
 * step: `step-writes.ts`), and the request's shape is checked with the shared `checkAppend`. The
 * result is the JSON the `append_one` function applies (migration 002). The outcome it sends back
 * becomes the `AppendResult` or the contract's error — for the state checks by re-running
 * `checkAppend` on the run as the database saw it, so the errors and their order are exactly those
 * of every other World.
 */
import { ConflictError, HookTokenConflictError, RunNotFoundError } from "../../errors/world.ts";
import type { EventRecord } from "../../world/events.ts";
import { checkAppend, type ProjectionEffect, projectEvent } from "../../world/projection.ts";
import type { AppendRequest, AppendResult, RunRecord } from "../../world/types.ts";
import { appendedRun } from "../shared.ts";
import { type RunHeadRow, runFromHead } from "../sql/rows.ts";
import { createStepWrites, type StepUpdateWire, type StepUpsertWire } from "./step-writes.ts";

type StepWrites = ReturnType<typeof createStepWrites>;

interface WireEvent {
  seq: number;
  type: string;
  data: unknown;
  at: number;
  /** Offset and length of the payload in the batch's bytes. */
  po?: number;
  pl?: number;
}

type WireEffect = Record<string, unknown> & { k: string };

interface WireRequest {
  runId: string;
  expectedSeq: number;
  owner?: string;
  at: number;
  badShape?: true;
  guard?: true;
  /** The append begins with `run_restarted` (migration 011). */
  restart?: true;
  status?: string;
  startedAt?: number;
  completedAt?: number;
  events: WireEvent[];
  stepUpdates?: StepUpdateWire[];
  stepUpserts?: StepUpsertWire[];
  /** Hook and wait effects, in event order. */
  effects?: WireEffect[];
  enqueue?: { id: string; run: string; kind: string; key?: string; at?: number }[];
  consume?: readonly string[];
  ack?: readonly string[];
  releaseLease?: true;
  /** Payload bytes of the events, added to the run's `payload_bytes` (migration 005). */
  bytes?: number;
}

export interface AppendPlan {
  readonly request: AppendRequest;
  /** The events as they are stored if the append succeeds. */
  readonly events: EventRecord[];
  readonly wire: WireRequest;
  /** Payload bytes in this append (for batch size bounds). */
  readonly bytes: number;
  /** Runs under a savepoint: it can fail after writing has begun (hook and wait ids, tokens). */
  readonly guard: boolean;
  readonly enqueues: boolean;
}

export type AppendOutcome =
  | { head: RunHeadRow; released: boolean | null; error?: undefined }
  | { error: "run_not_found" }
  | { error: "check"; head: RunHeadRow }
  | { error: "hook_token"; token: string | null; holder: string | null }
  | { error: "hook_id"; hookId: string }
  | { error: "wait_id"; waitId: string };

const EMPTY = new Uint8Array(0);

function hasBadShape(request: AppendRequest): boolean {
  const passing: RunRecord = {
    runId: request.runId,
    workflowName: "",
    // A restart passes on an ended run, any other append on a running one.
    status: request.events[0]?.type === "run_restarted" ? "completed" : "running",
    seq: request.expectedSeq,
    specVersion: 0,
    seed: "",
    encrypted: false,
    payloadBytes: 0,
    input: EMPTY,
    createdAt: 0,
    updatedAt: 0,
    wakePending: false,
  };
  try {
    checkAppend(passing, request);
    return false;
  } catch {
    return true;
  }
}

/** Hook and wait effects, applied in order by `append_one`; run and step effects are folded. */
function wireEffect(
  effect: ProjectionEffect,
  wire: WireRequest,
  effects: WireEffect[],
  steps: StepWrites,
  event: EventRecord,
): void {
  switch (effect.kind) {
    case "run.update":
      if (effect.set.status !== undefined) wire.status = effect.set.status;
      if (effect.set.startedAt !== undefined) wire.startedAt = effect.set.startedAt;
      if (effect.set.completedAt !== undefined) wire.completedAt = effect.set.completedAt;
      return;
    case "step.start":
    case "step.update":
      steps.add(effect, event);
      return;
    case "hook.create": {
      const { hook } = effect;
      const meta = hook.meta === undefined ? {} : { meta: hook.meta };
      effects.push({
        k: effect.kind,
        hookId: hook.hookId,
        token: hook.token,
        kind: hook.kind,
        ...meta,
        at: hook.createdAt,
      });
      return;
    }
    case "hook.dispose":
      effects.push({ k: effect.kind, hookId: effect.hookId, at: effect.at });
      return;
    case "hooks.disposeAll":
      effects.push({ k: effect.kind, at: effect.at });
      return;
    case "wait.create":
      effects.push({
        k: effect.kind,
        waitId: effect.wait.waitId,
        kind: effect.wait.kind,
        ...(effect.wait.eventType === undefined ? {} : { eventType: effect.wait.eventType }),
        resumeAt: effect.wait.resumeAt,
        at: effect.wait.createdAt,
      });
      return;
    case "wait.complete":
      effects.push({ k: effect.kind, waitId: effect.waitId, status: effect.status, at: effect.at });
      return;
    case "waits.cancelAll":
      effects.push({ k: effect.kind, at: effect.at });
      return;
    case "run.restart":
      // started_at and completed_at are cleared by append_one (migration 011).
      wire.status = "pending";
      delete wire.startedAt;
      delete wire.completedAt;
      return;
    case "hook.rearm":
      effects.push({ k: effect.kind, hookId: effect.hookId });
      return;
    case "wait.rearm":
      effects.push({ k: effect.kind, waitId: effect.waitId });
      return;
    case "run.version":
      // Applied by append_one (migration 013).
      effects.push({ k: effect.kind, bundleHash: effect.bundleHash, minSpec: effect.minSpecVersion ?? 0 });
      return;
  }
}

/** Plans an append at time `at`; `newMessageId` names enqueued messages. Throws on data that is not JSON. */
export function planAppend(request: AppendRequest, at: number, newMessageId: () => string): AppendPlan {
  const wire: WireRequest = {
    runId: request.runId,
    expectedSeq: request.expectedSeq,
    at,
    events: [],
  };
  if (request.owner !== undefined) wire.owner = request.owner;
  if (hasBadShape(request)) wire.badShape = true;
  if (request.events[0]?.type === "run_restarted") wire.restart = true;
  const events: EventRecord[] = [];
  let bytes = 0;
  let guard = false;
  const steps = createStepWrites();
  const effects: WireEffect[] = [];
  request.events.forEach((event, index) => {
    const record = {
      runId: request.runId,
      seq: request.expectedSeq + index + 1,
      type: event.type,
      data: JSON.parse(JSON.stringify(event.data)) as unknown,
      createdAt: event.createdAt ?? at,
    } as EventRecord;
    if (event.payload !== undefined) {
      record.payload = new Uint8Array(event.payload);
      bytes += record.payload.byteLength;
    }
    events.push(record);
    wire.events.push({ seq: record.seq, type: record.type, data: record.data, at: record.createdAt });
    if (
      event.type === "hook_created" ||
      event.type === "wait_created" ||
      event.type === "event_wait_created" ||
      event.type === "run_restarted"
    )
      guard = true;
    // A malformed batch is refused before anything is applied: skip its effects.
    if (wire.badShape) return;
    for (const effect of projectEvent(record)) wireEffect(effect, wire, effects, steps, record);
  });
  if (guard) wire.guard = true;
  if (bytes > 0) wire.bytes = bytes;
  const { updates, upserts } = steps.wire();
  if (updates.length > 0) wire.stepUpdates = updates;
  if (upserts.length > 0) wire.stepUpserts = upserts;
  if (effects.length > 0) wire.effects = effects;
  const enqueue = request.enqueue ?? [];
  if (enqueue.length > 0) {
    wire.enqueue = enqueue.map((message) => ({
      id: newMessageId(),
      run: message.runId,
      kind: message.kind,
      ...(message.dedupeKey === undefined ? {} : { key: message.dedupeKey }),
      ...(message.availableAt === undefined ? {} : { at: message.availableAt }),
    }));
  }
  if ((request.consumeInbox?.length ?? 0) > 0) wire.consume = [...(request.consumeInbox ?? [])];
  if ((request.ack?.length ?? 0) > 0) wire.ack = [...(request.ack ?? [])];
  if (request.releaseLease) wire.releaseLease = true;
  return { request, events, wire, bytes, guard, enqueues: enqueue.length > 0 };
}

/** The JSON of a batch and all its payload bytes in one buffer (each event points into it). */
export function encodeBatch(plans: readonly AppendPlan[]): { json: string; blob: Buffer } {
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const plan of plans) {
    plan.events.forEach((event, index) => {
      const wire = plan.wire.events[index] as WireEvent;
      if (event.payload === undefined) return;
      wire.po = offset;
      wire.pl = event.payload.byteLength;
      parts.push(event.payload);
      offset += event.payload.byteLength;
    });
  }
  return { json: JSON.stringify(plans.map((plan) => plan.wire)), blob: Buffer.concat(parts, offset) };
}

/** The append's result, or the contract's error for its outcome (thrown). */
export function resultOf(plan: AppendPlan, outcome: AppendOutcome): AppendResult {
  const { request } = plan;
  switch (outcome.error) {
    case undefined: {
      const run = appendedRun(runFromHead(outcome.head, EMPTY));
      const result: AppendResult = { seq: run.seq, events: plan.events, run };
      if (request.releaseLease && request.owner !== undefined)
        result.leaseReleased = outcome.released === true;
      return result;
    }
    case "run_not_found":
      throw new RunNotFoundError(request.runId);
    case "check":
      checkAppend(runFromHead(outcome.head, EMPTY), request);
      throw new Error(
        `Internal error: the database refused an append to run ${request.runId} that passes checkAppend.`,
      );
    case "hook_token":
      throw new HookTokenConflictError(outcome.token ?? "(unknown)", outcome.holder ?? undefined);
    case "hook_id":
      throw new ConflictError(`A hook with id ${outcome.hookId} already exists (run ${request.runId}).`);
    case "wait_id":
      throw new ConflictError(`Run ${request.runId} already has a wait with id ${outcome.waitId}.`);
  }
}
