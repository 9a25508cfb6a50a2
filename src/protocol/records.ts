/**
 * The World's records as they travel in the worker protocol: one schema per record type of
 * `world/types.ts`, field for field, with bytes as base64 strings. The server decodes requests
 * with them and the remote World decodes answers with them, so both sides agree on every field.
 */
import { EVENT_TYPES } from "../world/events.ts";
import { RUN_STATUSES } from "../world/types.ts";
import { bool, bytes, int, jsonObject, list, obj, oneOf, opt, str } from "./schema.ts";

/** Ids, names, tokens, owners: short strings. */
const id = () => str({ max: 1024 });
const time = () => int();

export const lease = obj("Lease", { owner: id(), expiresAt: time() });

export const runRecord = obj("RunRecord", {
  runId: id(),
  workflowName: id(),
  status: oneOf(RUN_STATUSES),
  seq: int(),
  specVersion: int(),
  seed: id(),
  encrypted: bool(),
  payloadBytes: int(),
  input: bytes(),
  output: opt(bytes()),
  error: opt(bytes()),
  createdAt: time(),
  startedAt: opt(time()),
  completedAt: opt(time()),
  updatedAt: time(),
  bundleHash: opt(id()),
  lease: opt(lease),
  wakePending: bool(),
});

export const eventType = () => oneOf(EVENT_TYPES);

export const eventRecord = obj("EventRecord", {
  runId: id(),
  seq: int({ min: 1 }),
  type: eventType(),
  data: jsonObject(),
  payload: opt(bytes()),
  createdAt: time(),
});

export const newEvent = obj("NewEvent", {
  type: eventType(),
  data: jsonObject(),
  payload: opt(bytes()),
  createdAt: opt(time()),
});

export const stepRecord = obj("StepRecord", {
  runId: id(),
  stepId: id(),
  stepName: id(),
  status: oneOf(["running", "retrying", "completed", "failed"] as const),
  attempt: int(),
  input: opt(bytes()),
  output: opt(bytes()),
  error: opt(bytes()),
  createdAt: time(),
  startedAt: time(),
  completedAt: opt(time()),
  retryAt: opt(time()),
  updatedAt: time(),
});

export const hookRecord = obj("HookRecord", {
  runId: id(),
  hookId: id(),
  token: id(),
  kind: oneOf(["hook", "webhook"] as const),
  status: oneOf(["active", "disposed"] as const),
  meta: opt(jsonObject()),
  createdAt: time(),
  disposedAt: opt(time()),
});

export const waitRecord = obj("WaitRecord", {
  runId: id(),
  waitId: id(),
  kind: oneOf(["sleep", "event"] as const),
  eventType: opt(id()),
  resumeAt: time(),
  status: oneOf(["waiting", "completed", "timed_out", "cancelled"] as const),
  createdAt: time(),
  completedAt: opt(time()),
});

export const queueMessage = obj("QueueMessage", {
  messageId: id(),
  runId: id(),
  kind: id(),
  dedupeKey: opt(id()),
  availableAt: time(),
  deliveries: int(),
  lease: opt(lease),
  createdAt: time(),
});

export const newMessage = obj("NewMessage", {
  runId: id(),
  kind: id(),
  dedupeKey: opt(id()),
  availableAt: opt(time()),
});

const inboxKind = () =>
  oneOf(["hook_payload", "event", "cancel", "pause", "pause_abort", "resume", "restart"] as const);

/** What a caller stores in an inbox item (the World adds its time, and its id when none is given). */
const inboxFields = {
  runId: id(),
  kind: inboxKind(),
  hookId: opt(id()),
  eventType: opt(id()),
  generation: opt(int()),
  payload: opt(bytes()),
};

export const inboxItem = obj("InboxItem", { itemId: id(), ...inboxFields, createdAt: time() });

export const newInboxItem = obj("NewInboxItem", { itemId: opt(id()), ...inboxFields });

export const streamChunk = obj("StreamChunk", { index: int(), data: bytes(), createdAt: time() });

export const streamInfo = obj("StreamInfo", { runId: id(), name: id(), length: int(), closed: bool() });

export const createRunInput = obj("CreateRunInput", {
  runId: id(),
  workflowName: id(),
  specVersion: int(),
  seed: id(),
  encrypted: bool(),
  input: bytes(),
  createdAt: opt(time()),
  bundleHash: opt(id()),
  traceparent: opt(str({ max: 256 })),
  tracestate: opt(str({ max: 512 })),
});

export const bundleRecord = obj("BundleRecord", {
  hash: id(),
  filename: str({ max: 4096 }),
  workflowIds: list(id(), { max: 10_000 }),
  code: bytes(),
  createdAt: time(),
});

export const newBundle = obj("NewBundle", {
  hash: id(),
  filename: str({ max: 4096 }),
  workflowIds: list(id(), { max: 10_000 }),
  code: bytes(),
});

export const importRunInput = obj("ImportRunInput", {
  runId: id(),
  workflowName: id(),
  specVersion: int(),
  seed: id(),
  encrypted: bool(),
  events: list(eventRecord, { max: 1_000_000 }),
  inbox: opt(list(inboxItem, { max: 100_000 })),
  streams: opt(
    list(
      obj("ImportStream", {
        name: id(),
        closed: bool(),
        chunks: list(streamChunk, { max: 1_000_000 }),
      }),
      { max: 10_000 },
    ),
  ),
  messages: opt(
    list(obj("ImportMessage", { kind: id(), dedupeKey: opt(id()), availableAt: time() }), { max: 10_000 }),
  ),
});

export const payloadRewrite = obj("PayloadRewrite", {
  slot: obj("PayloadSlot", {
    kind: oneOf(["event", "inbox", "stream", "hookResponse", "eventLogs"] as const),
    seq: opt(int({ min: 1 })),
    field: opt(oneOf(["logs", "workflowLogs"] as const)),
    itemId: opt(id()),
    name: opt(id()),
    index: opt(int()),
    hookId: opt(id()),
  }),
  expected: bytes(),
  bytes: bytes(),
});

const actor = obj("AuditActor", { user: str({ max: 1024 }), host: str({ max: 1024 }), pid: int() });

/** The fields an audit entry is recorded with (the World adds its id and time). */
const auditFields = {
  actor,
  action: id(),
  resource: id(),
  runIds: list(id(), { max: 10_000 }),
  reason: opt(str({ max: 4096 })),
  refersTo: opt(id()),
  outcome: opt(oneOf(["succeeded", "failed"] as const)),
  detail: opt(str({ max: 65_536 })),
};

export const newAuditEntry = obj("NewAuditEntry", auditFields);

export const auditEntry = obj("AuditEntry", { auditId: id(), at: time(), ...auditFields });

/** A World change hint (`WorldNotification`), as the notification stream sends it. */
export const notification = obj("Notification", {
  type: oneOf(["queue", "run", "inbox", "stream", "any"] as const),
  runId: opt(id()),
  status: opt(oneOf(RUN_STATUSES)),
  name: opt(id()),
});
