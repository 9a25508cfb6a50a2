/**
 * The local World's rows as SQLite returns them, and their conversion to the World's records. Blobs
 * come back from better-sqlite3 as Buffers; records carry plain `Uint8Array` views of them, the
 * same type every World returns. SQL NULL becomes an absent property, never `undefined` or `null`.
 */
import type { EventRecord } from "../../world/events.ts";
import type {
  AuditEntry,
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

export function bytesOf(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** The runs columns, without payloads: what the write paths need to check and update a run. */
export interface RunHeadRow {
  run_id: string;
  workflow_name: string;
  status: string;
  seq: number;
  spec_version: number;
  seed: string;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  updated_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  wake_pending: number;
}

/** A run with its payloads: `input` from event 1, `final_payload` from the terminal event. */
export interface RunRow extends RunHeadRow {
  input: Uint8Array;
  final_payload: Uint8Array | null;
}

/** A run record without payloads yet (`input` is filled in by the caller). */
export function runFromHead(row: RunHeadRow, input: Uint8Array): RunRecord {
  const run: RunRecord = {
    runId: row.run_id,
    workflowName: row.workflow_name,
    status: row.status as RunStatus,
    seq: row.seq,
    specVersion: row.spec_version,
    seed: row.seed,
    input,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    wakePending: row.wake_pending !== 0,
  };
  if (row.started_at !== null) run.startedAt = row.started_at;
  if (row.completed_at !== null) run.completedAt = row.completed_at;
  if (row.lease_owner !== null && row.lease_expires_at !== null) {
    run.lease = { owner: row.lease_owner, expiresAt: row.lease_expires_at };
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
  seq: number;
  type: string;
  data: string;
  payload: Uint8Array | null;
  created_at: number;
}

export function eventFromRow(row: EventRow): EventRecord {
  const event = {
    runId: row.run_id,
    seq: row.seq,
    type: row.type,
    data: JSON.parse(row.data) as unknown,
    createdAt: row.created_at,
  } as EventRecord;
  if (row.payload !== null) event.payload = bytesOf(row.payload);
  return event;
}

/** A step joined with the payloads of the events its `*_seq` columns point at. */
export interface StepRow {
  run_id: string;
  step_id: string;
  step_name: string;
  status: string;
  attempt: number;
  input: Uint8Array | null;
  output: Uint8Array | null;
  error: Uint8Array | null;
  created_at: number;
  started_at: number;
  completed_at: number | null;
  retry_at: number | null;
  updated_at: number;
}

export function stepFromRow(row: StepRow): StepRecord {
  const step: StepRecord = {
    runId: row.run_id,
    stepId: row.step_id,
    stepName: row.step_name,
    status: row.status as StepStatus,
    attempt: row.attempt,
    createdAt: row.created_at,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
  };
  if (row.input !== null) step.input = bytesOf(row.input);
  if (row.output !== null) step.output = bytesOf(row.output);
  if (row.error !== null) step.error = bytesOf(row.error);
  if (row.completed_at !== null) step.completedAt = row.completed_at;
  if (row.retry_at !== null) step.retryAt = row.retry_at;
  return step;
}

export interface HookRow {
  hook_id: string;
  run_id: string;
  token: string;
  kind: string;
  status: string;
  meta: string | null;
  created_at: number;
  disposed_at: number | null;
}

export function hookFromRow(row: HookRow): HookRecord {
  const hook: HookRecord = {
    runId: row.run_id,
    hookId: row.hook_id,
    token: row.token,
    kind: row.kind as HookRecord["kind"],
    status: row.status as HookRecord["status"],
    createdAt: row.created_at,
  };
  if (row.meta !== null) hook.meta = JSON.parse(row.meta) as Record<string, unknown>;
  if (row.disposed_at !== null) hook.disposedAt = row.disposed_at;
  return hook;
}

export interface WaitRow {
  run_id: string;
  wait_id: string;
  resume_at: number;
  status: string;
  created_at: number;
  completed_at: number | null;
}

export function waitFromRow(row: WaitRow): WaitRecord {
  const wait: WaitRecord = {
    runId: row.run_id,
    waitId: row.wait_id,
    resumeAt: row.resume_at,
    status: row.status as WaitRecord["status"],
    createdAt: row.created_at,
  };
  if (row.completed_at !== null) wait.completedAt = row.completed_at;
  return wait;
}

export interface MessageRow {
  message_id: string;
  run_id: string;
  kind: string;
  dedupe_key: string | null;
  available_at: number;
  deliveries: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  created_at: number;
}

export function messageFromRow(row: MessageRow): QueueMessage {
  const message: QueueMessage = {
    messageId: row.message_id,
    runId: row.run_id,
    kind: row.kind,
    availableAt: row.available_at,
    deliveries: row.deliveries,
    createdAt: row.created_at,
  };
  if (row.dedupe_key !== null) message.dedupeKey = row.dedupe_key;
  if (row.lease_owner !== null && row.lease_expires_at !== null) {
    message.lease = { owner: row.lease_owner, expiresAt: row.lease_expires_at };
  }
  return message;
}

export interface InboxRow {
  item_id: string;
  run_id: string;
  kind: string;
  hook_id: string | null;
  payload: Uint8Array | null;
  created_at: number;
}

export function inboxFromRow(row: InboxRow): InboxItem {
  const item: InboxItem = {
    itemId: row.item_id,
    runId: row.run_id,
    kind: row.kind as InboxItem["kind"],
    createdAt: row.created_at,
  };
  if (row.hook_id !== null) item.hookId = row.hook_id;
  if (row.payload !== null) item.payload = bytesOf(row.payload);
  return item;
}

export interface StreamRow {
  run_id: string;
  name: string;
  length: number;
  closed: number;
}

export function streamFromRow(row: StreamRow): StreamInfo {
  return { runId: row.run_id, name: row.name, length: row.length, closed: row.closed !== 0 };
}

export interface AuditRow {
  audit_id: string;
  at: number;
  actor_user: string;
  actor_host: string;
  actor_pid: number;
  action: string;
  resource: string;
  run_ids: string;
  reason: string | null;
}

export function auditFromRow(row: AuditRow): AuditEntry {
  const entry: AuditEntry = {
    auditId: row.audit_id,
    at: row.at,
    actor: { user: row.actor_user, host: row.actor_host, pid: row.actor_pid },
    action: row.action,
    resource: row.resource,
    runIds: JSON.parse(row.run_ids) as string[],
  };
  if (row.reason !== null) entry.reason = row.reason;
  return entry;
}
