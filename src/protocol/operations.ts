/**
 * The operations of the worker protocol v1: each is `POST <base>/protocol/v1/<path>` with a JSON
 * object body and a JSON object answer. They are the World's operations (`world/types.ts`, one
 * for one, with the same errors) plus what a worker in another language needs besides: worker
 * registration, task leases with a long poll, and long polls on streams. The server checks every
 * body against `request`, and the remote World every answer against `response`; the OpenAPI file
 * is generated from the same definitions (docs/protocol.md).
 */

import { RUN_STATUSES } from "../world/types.ts";
import {
  auditEntry,
  bundleRecord,
  createRunInput,
  eventRecord,
  hookRecord,
  importRunInput,
  inboxItem,
  newAuditEntry,
  newBundle,
  newEvent,
  newInboxItem,
  newMessage,
  payloadRewrite,
  queueMessage,
  runRecord,
  stepRecord,
  streamChunk,
  streamInfo,
  waitRecord,
} from "./records.ts";
import {
  anyJson,
  bool,
  bytes,
  int,
  jsonObject,
  list,
  obj,
  oneOf,
  opt,
  str,
  type WireSchema,
} from "./schema.ts";

/** The protocol versions this code speaks, newest last. */
export const PROTOCOL_VERSIONS = ["v1"] as const;
export const PROTOCOL_VERSION = "v1";

/** One operation: where it lives, what it does, what it takes and what it answers. */
export interface Operation<Req = unknown, Res = unknown> {
  path: string;
  summary: string;
  request: WireSchema<Req>;
  response: WireSchema<Res>;
}

function op<Req, Res>(
  path: string,
  summary: string,
  request: WireSchema<Req>,
  response: WireSchema<Res>,
): Operation<Req, Res> {
  return { path, summary, request, response };
}

const id = () => str({ max: 1024 });
const none = () => obj(undefined, {});
/** Longest long poll a request may ask for (ms); longer asks are cut to it. */
export const MAX_WAIT_MS = 60_000;
const waitMs = () => opt(int());

const runsFilter = obj("ListRunsFilter", {
  status: opt(list(oneOf(RUN_STATUSES), { max: RUN_STATUSES.length })),
  workflowName: opt(list(id(), { max: 10_000 })),
  createdSince: opt(int()),
  createdBefore: opt(int()),
  limit: opt(int({ min: 1 })),
  cursor: opt(id()),
});

const queueFilter = {
  workflows: opt(list(id(), { max: 10_000 })),
  runIds: opt(list(id(), { max: 10_000 })),
  versions: opt(list(str({ max: 1024 }), { max: 10_000 })),
};

const workerWorkflow = obj("WorkerWorkflow", {
  name: id(),
  version: opt(id()),
  digest: opt(id()),
});

export const workerRecord = obj("WorkerRecord", {
  workerId: id(),
  language: id(),
  label: opt(str({ max: 1024 })),
  workflows: list(workerWorkflow, { max: 10_000 }),
  steps: list(id(), { max: 100_000 }),
  registeredAt: int(),
  lastSeenAt: int(),
});

export const operations = {
  // --- runs -------------------------------------------------------------------------------
  runsCreate: op(
    "runs/create",
    "Create a run (idempotent on runId): World.runs.create. `created` says whether this call wrote it.",
    obj(undefined, { run: createRunInput }),
    obj(undefined, { run: runRecord, created: bool() }),
  ),
  runsCreateMany: op(
    "runs/create-many",
    "Create runs in one transaction: World.runs.createMany.",
    obj(undefined, { runs: list(createRunInput, { max: 1000 }) }),
    obj(undefined, {
      results: list(obj("CreatedRun", { run: runRecord, created: bool() }), { max: 1000 }),
    }),
  ),
  runsGet: op(
    "runs/get",
    "A run: World.runs.get.",
    obj(undefined, { runId: id() }),
    obj(undefined, { run: runRecord }),
  ),
  runsList: op(
    "runs/list",
    "Runs, newest first, paginated: World.runs.list.",
    obj(undefined, { filter: opt(runsFilter) }),
    obj("RunPage", { items: list(runRecord, { max: 1000 }), nextCursor: opt(id()) }),
  ),
  runsWorkflowNames: op(
    "runs/workflow-names",
    "The distinct workflow names of stored runs: World.runs.workflowNames.",
    none(),
    obj(undefined, { names: list(id(), { max: 1_000_000 }) }),
  ),
  runsAcquire: op(
    "runs/acquire",
    "Take a run's lease: World.runs.acquire.",
    obj(undefined, { runId: id(), owner: id(), leaseMs: int() }),
    obj(undefined, { acquired: bool(), run: runRecord }),
  ),
  runsPickUp: op(
    "runs/pick-up",
    "Take a run's lease and read its log and inbox in one round trip: World.runs.pickUp (world/pick-up.ts). The log is left out when the run's seq equals knownSeq; neither is read when the run was not acquired or has ended.",
    obj(undefined, { runId: id(), owner: id(), leaseMs: int(), knownSeq: opt(int()) }),
    obj(undefined, {
      acquired: bool(),
      run: runRecord,
      events: opt(list(eventRecord, { max: 1_000_000 })),
      inbox: opt(list(inboxItem, { max: 1_000_000 })),
    }),
  ),
  runsRenew: op(
    "runs/renew",
    "Extend an owner's run leases: World.runs.renew.",
    obj(undefined, { owner: id(), runIds: list(id(), { max: 100_000 }), leaseMs: int() }),
    obj(undefined, { runIds: list(id(), { max: 100_000 }) }),
  ),
  runsRelease: op(
    "runs/release",
    "Release a run's lease: World.runs.release.",
    obj(undefined, { runId: id(), owner: id() }),
    obj(undefined, { released: bool() }),
  ),
  runsImport: op(
    "runs/import",
    "Write a run exported from another World: World.runs.import.",
    obj(undefined, { run: importRunInput }),
    obj(undefined, { run: runRecord, imported: bool() }),
  ),
  // --- events -----------------------------------------------------------------------------
  eventsAppend: op(
    "events/append",
    "Append events with fencing (expectedSeq, owner), with enqueues, inbox takes, acks and a lease release in the same transaction: World.events.append. With returnEvents: false the answer's events is empty (the caller has what it sent; the new events are seq - n + 1 … seq).",
    obj("AppendRequest", {
      runId: id(),
      expectedSeq: int(),
      owner: opt(id()),
      events: list(newEvent, { max: 100_000 }),
      enqueue: opt(list(newMessage, { max: 100_000 })),
      consumeInbox: opt(list(id(), { max: 100_000 })),
      ack: opt(list(id(), { max: 100_000 })),
      releaseLease: opt(bool()),
      returnEvents: opt(bool()),
    }),
    obj("AppendResult", {
      seq: int(),
      events: list(eventRecord, { max: 100_000 }),
      leaseReleased: opt(bool()),
      run: obj("AppendedRun", { runId: id(), status: oneOf(RUN_STATUSES), seq: int(), payloadBytes: int() }),
    }),
  ),
  eventsList: op(
    "events/list",
    "A run's events after a cursor (afterSeq), in order: World.events.list.",
    obj(undefined, { runId: id(), afterSeq: opt(int()), limit: opt(int({ min: 1 })) }),
    obj(undefined, { events: list(eventRecord, { max: 1_000_000 }) }),
  ),
  // --- steps, hooks, waits ------------------------------------------------------------------
  stepsList: op(
    "steps/list",
    "A run's steps: World.steps.list.",
    obj(undefined, { runId: id() }),
    obj(undefined, { steps: list(stepRecord, { max: 1_000_000 }) }),
  ),
  stepsGet: op(
    "steps/get",
    "One step: World.steps.get.",
    obj(undefined, { runId: id(), stepId: id() }),
    obj(undefined, { step: stepRecord }),
  ),
  hooksGetByToken: op(
    "hooks/get-by-token",
    "The active hook holding a token: World.hooks.getByToken.",
    obj(undefined, { token: id() }),
    obj(undefined, { hook: hookRecord }),
  ),
  hooksGet: op(
    "hooks/get",
    "A hook: World.hooks.get.",
    obj(undefined, { hookId: id() }),
    obj(undefined, { hook: hookRecord }),
  ),
  hooksList: op(
    "hooks/list",
    "A run's hooks, or all hooks: World.hooks.list.",
    obj(undefined, {
      runId: opt(id()),
      status: opt(oneOf(["active", "disposed"] as const)),
      limit: opt(int({ min: 1 })),
    }),
    obj(undefined, { hooks: list(hookRecord, { max: 1_000_000 }) }),
  ),
  waitsList: op(
    "waits/list",
    "A run's waits, or all waits: World.waits.list.",
    obj(undefined, {
      runId: opt(id()),
      status: opt(oneOf(["waiting", "completed", "timed_out", "cancelled"] as const)),
      limit: opt(int({ min: 1 })),
    }),
    obj(undefined, { waits: list(waitRecord, { max: 1_000_000 }) }),
  ),
  // --- queue --------------------------------------------------------------------------------
  queueEnqueue: op(
    "queue/enqueue",
    "Add messages: World.queue.enqueue.",
    obj(undefined, { messages: list(newMessage, { max: 100_000 }) }),
    none(),
  ),
  queueClaim: op(
    "queue/claim",
    "Claim due messages, leasing them to owner: World.queue.claim. With waitMs, a long poll: answers as soon as something is claimed, or empty after waitMs.",
    obj(undefined, { owner: id(), limit: int(), leaseMs: int(), ...queueFilter, waitMs: waitMs() }),
    obj(undefined, { messages: list(queueMessage, { max: 100_000 }) }),
  ),
  queueAck: op(
    "queue/ack",
    "Delete messages leased to owner: World.queue.ack.",
    obj(undefined, { owner: id(), messageIds: list(id(), { max: 100_000 }) }),
    none(),
  ),
  queueRelease: op(
    "queue/release",
    "Return a leased message to the queue: World.queue.release.",
    obj(undefined, { owner: id(), messageId: id(), availableAt: opt(int()) }),
    none(),
  ),
  queueExtend: op(
    "queue/extend",
    "Extend message leases: World.queue.extend.",
    obj(undefined, { owner: id(), messageIds: list(id(), { max: 100_000 }), leaseMs: int() }),
    obj(undefined, { messageIds: list(id(), { max: 100_000 }) }),
  ),
  queueNextAvailable: op(
    "queue/next-available",
    "When the next message becomes claimable (absent: none): World.queue.nextAvailableAt.",
    obj(undefined, queueFilter),
    obj(undefined, { at: opt(int()) }),
  ),
  queueList: op(
    "queue/list",
    "A run's messages: World.queue.list.",
    obj(undefined, { runId: id() }),
    obj(undefined, { messages: list(queueMessage, { max: 1_000_000 }) }),
  ),
  // --- inbox --------------------------------------------------------------------------------
  inboxPut: op(
    "inbox/put",
    "Store an inbox item and enqueue its message: World.inbox.put.",
    obj(undefined, { item: newInboxItem, maxRunBytes: opt(int()) }),
    obj(undefined, { item: inboxItem }),
  ),
  inboxList: op(
    "inbox/list",
    "Items waiting for a run: World.inbox.list.",
    obj(undefined, { runId: id() }),
    obj(undefined, { items: list(inboxItem, { max: 1_000_000 }) }),
  ),
  // --- streams ------------------------------------------------------------------------------
  streamsWrite: op(
    "streams/write",
    "Append chunks to a run's stream, optionally closing it: World.streams.write.",
    obj(undefined, {
      runId: id(),
      name: id(),
      chunks: list(bytes(), { max: 100_000 }),
      close: opt(bool()),
      maxRunBytes: opt(int()),
    }),
    obj(undefined, { info: streamInfo }),
  ),
  streamsRead: op(
    "streams/read",
    "Chunks from an index: World.streams.read. With waitMs, a tail: when no chunk is there yet and the stream is open, waits up to waitMs for one.",
    obj(undefined, {
      runId: id(),
      name: id(),
      from: opt(int()),
      limit: opt(int({ min: 1 })),
      waitMs: waitMs(),
    }),
    obj(undefined, { chunks: list(streamChunk, { max: 100_000 }), info: streamInfo }),
  ),
  streamsInfo: op(
    "streams/info",
    "A stream's length and whether it is closed: World.streams.info.",
    obj(undefined, { runId: id(), name: id() }),
    obj(undefined, { info: streamInfo }),
  ),
  streamsList: op(
    "streams/list",
    "A run's streams: World.streams.list.",
    obj(undefined, { runId: id() }),
    obj(undefined, { streams: list(streamInfo, { max: 100_000 }) }),
  ),
  // --- payloads, bundles, notices, audit -----------------------------------------------------
  payloadsRewrite: op(
    "payloads/rewrite",
    "Replace stored payload bytes in place, compare-and-swap: World.payloads.rewrite.",
    obj(undefined, { runId: id(), rewrites: list(payloadRewrite, { max: 10_000 }) }),
    obj(undefined, { rewritten: int(), skipped: int() }),
  ),
  bundlesPut: op(
    "bundles/put",
    "Store a workflow bundle once: World.bundles.put.",
    obj(undefined, { bundle: newBundle }),
    none(),
  ),
  bundlesGet: op(
    "bundles/get",
    "A stored bundle: World.bundles.get.",
    obj(undefined, { hash: id() }),
    obj(undefined, { bundle: bundleRecord }),
  ),
  bundlesHashes: op(
    "bundles/hashes",
    "Every stored bundle's hash: World.bundles.hashes.",
    none(),
    obj(undefined, { hashes: list(id(), { max: 1_000_000 }) }),
  ),
  bundlesRewrite: op(
    "bundles/rewrite",
    "Replace a bundle's bytes, compare-and-swap: World.bundles.rewrite.",
    obj(undefined, { hash: id(), from: bytes(), to: bytes() }),
    obj(undefined, { rewritten: bool() }),
  ),
  noticesRecord: op(
    "notices/record",
    "Record that a notice was given (true the first time): World.notices.record.",
    obj(undefined, { key: id() }),
    obj(undefined, { recorded: bool() }),
  ),
  auditRecord: op(
    "audit/record",
    "Append an audit entry: World.audit.record.",
    obj(undefined, { entry: newAuditEntry }),
    obj(undefined, { entry: auditEntry }),
  ),
  auditList: op(
    "audit/list",
    "Audit entries, newest first, paginated: World.audit.list.",
    obj(undefined, { runId: opt(id()), limit: opt(int({ min: 1 })), cursor: opt(id()) }),
    obj("AuditPage", { items: list(auditEntry, { max: 1000 }), nextCursor: opt(id()) }),
  ),
  // --- workers and tasks -------------------------------------------------------------------------
  workersRegister: op(
    "workers/register",
    "Register a worker: its language, the workflows (with versions) and steps it has. Answers its workerId. A workflow version another live worker registered with a different digest is refused (409 WORKFLOW_VERSION_CONFLICT).",
    obj(undefined, {
      language: id(),
      label: opt(str({ max: 1024 })),
      workflows: list(workerWorkflow, { max: 10_000 }),
      steps: opt(list(id(), { max: 100_000 })),
    }),
    obj(undefined, { worker: workerRecord }),
  ),
  workersList: op(
    "workers/list",
    "The live workers (those heard from within the last minute).",
    none(),
    obj(undefined, { workers: list(workerRecord, { max: 100_000 }) }),
  ),
  workflowsList: op(
    "workflows/list",
    "The full ids of the workflows that live workers registered, sorted, each once: how a client without a workflow's code finds it by its plain name (World.workers.workflows).",
    none(),
    obj(undefined, { workflows: list(id(), { max: 100_000 }) }),
  ),
  tasksLease: op(
    "tasks/lease",
    "Lease tasks for a registered worker: claims due messages of the workflows it registered (and only those), leased to the workerId; a long poll of up to waitMs. When every workflow it registered names a version, only messages of runs pinned to one of those versions or not pinned yet (the worker that starts a run pins it with run_started.bundleHash). Refreshes the registration.",
    obj(undefined, {
      workerId: id(),
      limit: int(),
      leaseMs: int(),
      runIds: opt(list(id(), { max: 10_000 })),
      waitMs: waitMs(),
    }),
    obj(undefined, { messages: list(queueMessage, { max: 100_000 }) }),
  ),
} as const;

/** The name (key of `operations`) of every operation, by path. */
export const operationKeys: ReadonlyMap<string, keyof typeof operations> = new Map(
  (Object.keys(operations) as (keyof typeof operations)[]).map((key) => [operations[key].path, key]),
);

/** The request type of an operation. */
export type RequestOf<O> = O extends Operation<infer Req, unknown> ? Req : never;
/** The answer type of an operation. */
export type ResponseOf<O> = O extends Operation<unknown, infer Res> ? Res : never;

/** The error body of every refused request. */
export const errorBody = obj("Error", {
  error: obj("ErrorDetail", {
    code: str({ max: 256 }),
    message: str({ max: 65_536 }),
    details: opt(jsonObject()),
    issues: opt(list(obj("Issue", { path: list(anyJson(), { max: 64 }), message: str() }), { max: 1000 })),
  }),
});
