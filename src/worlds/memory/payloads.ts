/**
 * The memory World's `payloads.rewrite`: replaces payload bytes where a run keeps them (its events,
 * inbox items and stream chunks) and in the projections that hold the same bytes (the run's input,
 * output and error, its steps' arguments, results and errors), so that every read agrees with the
 * log. Records are given new byte arrays, never changed in place: what a caller read before keeps
 * its bytes.
 */
import type { EventRecord } from "../../world/events.ts";
import type {
  HookRecord,
  InboxItem,
  PayloadRewrite,
  PayloadRewriteResult,
  RunRecord,
  StepRecord,
  StreamChunk,
  StreamInfo,
} from "../../world/types.ts";
import { sameBytes } from "../shared.ts";

/** What the memory World keeps of one run that can hold payloads. */
export interface PayloadHolder {
  run: RunRecord;
  events: EventRecord[];
  steps: Map<string, StepRecord>;
  inbox: Map<string, InboxItem>;
  streams: Map<string, { info: StreamInfo; chunks: StreamChunk[] }>;
}

type BytesField = "input" | "output" | "error";

/** Which projection field shows an event's payload, and the event types that write that field. */
function fieldOf(
  event: EventRecord,
): { stepId?: string; field: BytesField; types: readonly string[] } | undefined {
  switch (event.type) {
    case "run_created":
      return { field: "input", types: ["run_created"] };
    case "run_completed":
      return { field: "output", types: ["run_completed"] };
    case "run_failed":
      return { field: "error", types: ["run_failed"] };
    case "step_started":
      return { stepId: event.data.stepId, field: "input", types: ["step_started"] };
    case "step_completed":
      return { stepId: event.data.stepId, field: "output", types: ["step_completed"] };
    case "step_retrying":
    case "step_failed":
      return { stepId: event.data.stepId, field: "error", types: ["step_retrying", "step_failed"] };
    default:
      return undefined;
  }
}

/**
 * Gives the projection that shows `event`'s payload the new bytes: only when `event` is the last
 * event that wrote that field (a step's error shows its latest failure), as the SQL Worlds, which
 * read projections from the log, do.
 */
function rewriteProjection(state: PayloadHolder, event: EventRecord, bytes: Uint8Array): void {
  const target = fieldOf(event);
  if (target === undefined) return;
  const later = state.events.slice(event.seq).some((other) => {
    if (!target.types.includes(other.type)) return false;
    return target.stepId === undefined || ("stepId" in other.data && other.data.stepId === target.stepId);
  });
  if (later) return;
  const record = target.stepId === undefined ? state.run : state.steps.get(target.stepId);
  if (record !== undefined) record[target.field] = bytes;
}

/** Applies checked rewrites to one run (the caller checked lengths and that the run exists). */
export function rewritePayloads(
  state: PayloadHolder,
  rewrites: readonly PayloadRewrite[],
  hooks: Map<string, HookRecord>,
): PayloadRewriteResult {
  let rewritten = 0;
  for (const { slot, expected, bytes } of rewrites) {
    const copy = new Uint8Array(bytes);
    if (slot.kind === "event") {
      const event = state.events[slot.seq - 1];
      if (event === undefined || event.seq !== slot.seq || !sameBytes(event.payload, expected)) continue;
      event.payload = copy;
      rewriteProjection(state, event, copy);
    } else if (slot.kind === "inbox") {
      const item = state.inbox.get(slot.itemId);
      if (item === undefined || !sameBytes(item.payload, expected)) continue;
      item.payload = copy;
    } else if (slot.kind === "eventLogs") {
      const event = state.events[slot.seq - 1];
      const data = event?.data as Record<string, { sealed?: string } | undefined> | undefined;
      const logs = data?.[slot.field];
      if (
        event === undefined ||
        event.seq !== slot.seq ||
        logs?.sealed !== Buffer.from(expected).toString("base64")
      )
        continue;
      event.data = {
        ...event.data,
        [slot.field]: { ...logs, sealed: Buffer.from(bytes).toString("base64") },
      };
    } else if (slot.kind === "hookResponse") {
      const from = Buffer.from(expected).toString("base64");
      const to = Buffer.from(bytes).toString("base64");
      const hook = hooks.get(slot.hookId);
      const meta =
        hook?.runId === state.run.runId ? (hook.meta as { sealed?: string } | undefined) : undefined;
      if (hook === undefined || meta?.sealed !== from) continue;
      hook.meta = { ...meta, sealed: to };
      for (const event of state.events) {
        if (event.type !== "hook_created" || event.data.hookId !== slot.hookId) continue;
        const data = event.data.meta as { sealed?: string } | undefined;
        if (data?.sealed === from) event.data = { ...event.data, meta: { ...data, sealed: to } };
      }
    } else {
      const chunk = state.streams.get(slot.name)?.chunks[slot.index];
      if (chunk === undefined || chunk.index !== slot.index || !sameBytes(chunk.data, expected)) continue;
      chunk.data = copy;
    }
    rewritten++;
  }
  return { rewritten, skipped: rewrites.length - rewritten };
}
