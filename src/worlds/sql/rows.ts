/**
 * The SQL Worlds' rows (local: SQLite; postgres) and their conversion to the World's records, in
 * one place so both Worlds map every column the same way. The drivers differ in what they return:
 * better-sqlite3 gives numbers, 0/1 for booleans and JSON as text; node-postgres gives `bigint`
 * columns as strings (no global type parsers are installed, so a pool can be shared), real booleans
 * and `jsonb` parsed. `num`, `bool` and `json` accept either. Blobs become plain `Uint8Array` views,
 * and SQL NULL becomes an absent property, as in every World.
 */
import type { EventRecord } from "../../world/events.ts";
import type {
  AuditEntry,
  AuditOutcome,
  HookRecord,
  InboxItem,
  QueueMessage,
  RunRecord,
  RunStatus,
  StepRecord,
  StepStatus,
  StreamInfo,
  WaitRecord,
} from "../../world/types.ts";

type Int = number | string | bigint;
type Bool = boolean | number;
/** JSON as text (SQLite) or already parsed (jsonb). */
type Json<T> = T | string;

export const num = (value: Int): number => (typeof value === "number" ? value : Number(value));
export const bool = (value: Bool): boolean => value === true || value === 1;
export const json = <T>(value: Json<T>): T => (typeof value === "string" ? (JSON.parse(value) as T) : value);

export function bytesOf(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** The runs columns. */
export interface RunHeadRow {
  run_id: string;
  workflow_name: string;
  status: string;
  seq: Int;
  spec_version: Int;
  seed: string;
  encrypted: Bool;
  payload_bytes: Int;
  created_at: Int;
  started_at: Int | null;
  completed_at: Int | null;
  updated_at: Int;
  lease_owner: string | null;
  lease_expires_at: Int | null;
  wake_pending: Bool;
  /** Absent in heads read before the column existed (a migration test's rows). */
  bundle_hash?: string | null;
}

export interface RunRow extends RunHeadRow {
  input: Uint8Array;
  final_payload: Uint8Array | null;
}

export function runFromHead(row: RunHeadRow, input: Uint8Array): RunRecord {
  const run: RunRecord = {
    runId: row.run_id,
    workflowName: row.workflow_name,
    status: row.status as RunStatus,
    seq: num(row.seq),
    specVersion: num(row.spec_version),
    seed: row.seed,
    encrypted: bool(row.encrypted),
    payloadBytes: num(row.payload_bytes),
    input,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
    wakePending: bool(row.wake_pending),
  };
  if (row.bundle_hash !== undefined && row.bundle_hash !== null) run.bundleHash = row.bundle_hash;
  if (row.started_at !== null) run.startedAt = num(row.started_at);
  if (row.completed_at !== null) run.completedAt = num(row.completed_at);
  if (row.lease_owner !== null && row.lease_expires_at !== null) {
    run.lease = { owner: row.lease_owner, expiresAt: num(row.lease_expires_at) };
  }
  return run;
}

export function runFromRow(row: RunRow): RunRecord {
  const run = runFromHead(row, bytesOf(row.input));
  if (row.final_payload !== null) {
    if (row.status === "completed") run.output = bytesOf(row.final_payload);
    else if (row.status === "failed") run.error = bytesOf(row.final_payload);
  }
  return run;
}

export interface EventRow {
  run_id: string;
  seq: Int;
  type: string;
  data: Json<unknown>;
  payload: Uint8Array | null;
  created_at: Int;
}

export function eventFromRow(row: EventRow): EventRecord {
  const event = {
    runId: row.run_id,
    seq: num(row.seq),
    type: row.type,
    data: json(row.data),
    createdAt: num(row.created_at),
  } as EventRecord;
  if (row.payload !== null) event.payload = bytesOf(row.payload);
  return event;
}

export interface StepRow {
  run_id: string;
  step_id: string;
  step_name: string;
  status: string;
  attempt: Int;
  input: Uint8Array | null;
  output: Uint8Array | null;
  error: Uint8Array | null;
  created_at: Int;
  started_at: Int;
  completed_at: Int | null;
  retry_at: Int | null;
  updated_at: Int;
}

export function stepFromRow(row: StepRow): StepRecord {
  const step: StepRecord = {
    runId: row.run_id,
    stepId: row.step_id,
    stepName: row.step_name,
    status: row.status as StepStatus,
    attempt: num(row.attempt),
    createdAt: num(row.created_at),
    startedAt: num(row.started_at),
    updatedAt: num(row.updated_at),
  };
  if (row.input !== null) step.input = bytesOf(row.input);
  if (row.output !== null) step.output = bytesOf(row.output);
  if (row.error !== null) step.error = bytesOf(row.error);
  if (row.completed_at !== null) step.completedAt = num(row.completed_at);
  if (row.retry_at !== null) step.retryAt = num(row.retry_at);
  return step;
}

export interface HookRow {
  hook_id: string;
  run_id: string;
  token: string;
  kind: string;
  status: string;
  meta: Json<Record<string, unknown>> | null;
  created_at: Int;
  disposed_at: Int | null;
}

export function hookFromRow(row: HookRow): HookRecord {
  const hook: HookRecord = {
    runId: row.run_id,
    hookId: row.hook_id,
    token: row.token,
    kind: row.kind as HookRecord["kind"],
    status: row.status as HookRecord["status"],
    createdAt: num(row.created_at),
  };
  if (row.meta !== null) hook.meta = json(row.meta);
  if (row.disposed_at !== null) hook.disposedAt = num(row.disposed_at);
  return hook;
}

export interface WaitRow {
  run_id: string;
  wait_id: string;
  kind: string;
  event_type: string | null;
  resume_at: Int;
  status: string;
  created_at: Int;
  completed_at: Int | null;
}

export function waitFromRow(row: WaitRow): WaitRecord {
  const wait: WaitRecord = {
    runId: row.run_id,
    waitId: row.wait_id,
    kind: row.kind as WaitRecord["kind"],
    resumeAt: num(row.resume_at),
    status: row.status as WaitRecord["status"],
    createdAt: num(row.created_at),
  };
  if (row.event_type !== null) wait.eventType = row.event_type;
  if (row.completed_at !== null) wait.completedAt = num(row.completed_at);
  return wait;
}

export interface MessageRow {
  message_id: string;
  run_id: string;
  kind: string;
  dedupe_key: string | null;
  available_at: Int;
  deliveries: Int;
  lease_owner: string | null;
  lease_expires_at: Int | null;
  created_at: Int;
}

export function messageFromRow(row: MessageRow): QueueMessage {
  const message: QueueMessage = {
    messageId: row.message_id,
    runId: row.run_id,
    kind: row.kind,
    availableAt: num(row.available_at),
    deliveries: num(row.deliveries),
    createdAt: num(row.created_at),
  };
  if (row.dedupe_key !== null) message.dedupeKey = row.dedupe_key;
  if (row.lease_owner !== null && row.lease_expires_at !== null) {
    message.lease = { owner: row.lease_owner, expiresAt: num(row.lease_expires_at) };
  }
  return message;
}

export interface InboxRow {
  item_id: string;
  run_id: string;
  kind: string;
  hook_id: string | null;
  event_type: string | null;
  generation: Int | null;
  payload: Uint8Array | null;
  created_at: Int;
}

export function inboxFromRow(row: InboxRow): InboxItem {
  const item: InboxItem = {
    itemId: row.item_id,
    runId: row.run_id,
    kind: row.kind as InboxItem["kind"],
    createdAt: num(row.created_at),
  };
  if (row.hook_id !== null) item.hookId = row.hook_id;
  if (row.event_type !== null) item.eventType = row.event_type;
  if (row.generation !== null && row.generation !== undefined) item.generation = num(row.generation);
  if (row.payload !== null) item.payload = bytesOf(row.payload);
  return item;
}

export interface StreamRow {
  run_id: string;
  name: string;
  length: Int;
  closed: Bool;
}

export function streamFromRow(row: StreamRow): StreamInfo {
  return { runId: row.run_id, name: row.name, length: num(row.length), closed: bool(row.closed) };
}

export interface AuditRow {
  audit_id: string;
  at: Int;
  actor_user: string;
  actor_host: string;
  actor_pid: Int;
  action: string;
  resource: string;
  run_ids: Json<string[]>;
  reason: string | null;
  refers_to: string | null;
  outcome: string | null;
  detail: string | null;
}

export function auditFromRow(row: AuditRow): AuditEntry {
  const entry: AuditEntry = {
    auditId: row.audit_id,
    at: num(row.at),
    actor: { user: row.actor_user, host: row.actor_host, pid: num(row.actor_pid) },
    action: row.action,
    resource: row.resource,
    runIds: json(row.run_ids),
  };
  if (row.reason !== null) entry.reason = row.reason;
  if (row.refers_to !== null) entry.refersTo = row.refers_to;
  if (row.outcome !== null) entry.outcome = row.outcome as AuditOutcome;
  if (row.detail !== null) entry.detail = row.detail;
  return entry;
}
