/**
 * The World interface: everything the runtime needs from storage and queuing, and nothing more.
 * A World is a plain object grouped by resource (runs, events, steps, hooks, waits, queue, inbox,
 * streams, payloads, notices, audit). Every method documents the errors it throws; those errors come from `errors/world.ts`
 * and the conformance suite (`world/testing/`, shipped as `stepwise-workflows/world/testing`) holds
 * every World to them. The public face of all this is `world/index.ts` (`stepwise-workflows/world`).
 *
 * Times are epoch milliseconds. Payloads are opaque bytes from `serde/`. A World never interprets
 * payloads and never calls user code.
 */
import type { EventRecord, NewEvent } from "./events.ts";

/**
 * Where a run stands. `pausing` is Cloudflare's `waitingForPause`: a pause was asked for and the
 * run's steps in flight are finishing; `paused`: nothing runs until `resume`.
 */
export type RunStatus = "pending" | "running" | "pausing" | "paused" | "completed" | "failed" | "cancelled";
/** Every status, in the order a run moves through them (for filters and help texts). */
export const RUN_STATUSES: readonly RunStatus[] = [
  "pending",
  "running",
  "pausing",
  "paused",
  "completed",
  "failed",
  "cancelled",
];
export const TERMINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set(["completed", "failed", "cancelled"]);

export interface Lease {
  owner: string;
  /**
   * When the lease runs out unless renewed, on the reading process's wall clock (epoch ms). A
   * World shared by processes keeps the lease itself on a clock that a wall-clock step cannot
   * move (the database's, the machine's monotonic one) and converts it for records.
   */
  expiresAt: number;
}

export interface RunRecord {
  runId: string;
  workflowName: string;
  status: RunStatus;
  /** Sequence number of the last event in the run's log (1 after creation). */
  seq: number;
  /** Replay/format version the run was created with; a worker leaves runs from newer versions alone. */
  specVersion: number;
  /** Secret per-run seed for deterministic ids and randomness. */
  seed: string;
  /**
   * The run was created with encryption on (recorded at creation, never changed): every payload
   * stored for it must be encrypted, and a plain one is refused as forged.
   */
  encrypted: boolean;
  /**
   * Bytes of payload stored for the run, counted against its size limit: every payload in its
   * log, every chunk of its streams, and the payloads waiting in its inbox. Maintained by the
   * World in the same transaction as each write.
   */
  payloadBytes: number;
  input: Uint8Array;
  output?: Uint8Array;
  error?: Uint8Array;
  createdAt: number;
  startedAt?: number;
  completedAt?: number;
  updatedAt: number;
  /**
   * The version of the workflow code the run replays with: the hash of its workflow bundle
   * (`bundles`), from the latest `run_created`, `run_started` or `run_upgraded` of its log that
   * names one. Absent for a run older than pinning (and one whose first worker has not started it,
   * when it was started by a process without the workflow code).
   */
  bundleHash?: string;
  /** Who is driving the run, until when. Absent when nobody is. */
  lease?: Lease;
  /** Someone asked for the run while it was leased; the holder must look again before releasing. */
  wakePending: boolean;
}

export type StepStatus = "running" | "retrying" | "completed" | "failed";

export interface StepRecord {
  runId: string;
  stepId: string;
  stepName: string;
  status: StepStatus;
  /** The current (or last) attempt, from 1. */
  attempt: number;
  input?: Uint8Array;
  output?: Uint8Array;
  error?: Uint8Array;
  createdAt: number;
  startedAt: number;
  completedAt?: number;
  retryAt?: number;
  updatedAt: number;
}

export type HookStatus = "active" | "disposed";

export interface HookRecord {
  runId: string;
  hookId: string;
  token: string;
  kind: "hook" | "webhook";
  status: HookStatus;
  meta?: Record<string, unknown>;
  createdAt: number;
  disposedAt?: number;
}

/**
 * waiting: the wait has not ended; completed: the sleep ended, or the event arrived, and the
 * workflow went on; timed_out: an event wait reached its timeout without an event; cancelled: the
 * run ended (completed, failed or was cancelled) while it still waited.
 */
export type WaitStatus = "waiting" | "completed" | "timed_out" | "cancelled";

/** sleep: a durable `sleep()`; event: a `waitForEvent`, whose `resumeAt` is its timeout. */
export type WaitKind = "sleep" | "event";

export interface WaitRecord {
  runId: string;
  waitId: string;
  kind: WaitKind;
  /** For event waits: the event type waited for. */
  eventType?: string;
  /** When a sleep ends, or when an event wait times out. */
  resumeAt: number;
  status: WaitStatus;
  createdAt: number;
  /** When the wait ended (completed or timed out), or when the run ended while it still waited (cancelled). */
  completedAt?: number;
}

/** A queued instruction to look at a run ("start it", "a sleep is due", "a hook payload arrived"). */
export interface QueueMessage {
  messageId: string;
  runId: string;
  kind: string;
  dedupeKey?: string;
  availableAt: number;
  /** How many times the message has been claimed, this claim included. */
  deliveries: number;
  lease?: Lease;
  createdAt: number;
}

export interface NewMessage {
  runId: string;
  kind: string;
  /**
   * While a message with this key is waiting (not yet claimed), enqueueing another with the same key
   * is a no-op. A message that is claimed no longer blocks its key.
   */
  dedupeKey?: string;
  /** Epoch ms before which nobody can claim the message; now when omitted. */
  availableAt?: number;
}

/** Which messages a claim (or `nextAvailableAt`) considers. */
export interface QueueFilter {
  /**
   * Only messages whose run's workflow (`RunRecord.workflowName`) is in this list; every message
   * when omitted, none when empty. A worker passes the workflows it can execute, so a run is only
   * ever claimed by a worker that can drive it, and a backlog of messages for workflows nobody
   * here runs neither costs its claims nor is handed back and forth. Worlds index messages by
   * workflow so that such a backlog is never scanned.
   */
  workflows?: readonly string[];
  /**
   * Only messages of these runs; every run when omitted, none when empty. With `workflows` too, a
   * message must match both. A process that drives only the runs it started (`npx stepwise start
   * --wait`) passes them, so it never claims, and never executes, another run.
   */
  runIds?: readonly string[];
  /**
   * Only messages whose run is pinned to one of these code versions (`RunRecord.bundleHash`), or
   * not pinned yet; every message when omitted. With `workflows` or `runIds` too, a message must
   * match each. A worker that can replay only some versions of its workflows (a Python worker:
   * its version is a hash of its code) passes them, so it is never handed a run it cannot replay;
   * an unpinned run is taken by whichever worker starts it, which pins it (`run_started.bundleHash`).
   * A message follows its run's pin as it changes (`run_started`, `run_upgraded`, in the same
   * transaction), and Worlds index messages by version so that a backlog of other versions'
   * messages is never scanned.
   */
  versions?: readonly string[];
}

export interface ClaimOptions extends QueueFilter {
  /** At most this many messages (0 claims nothing). */
  limit: number;
  /** The claimed messages are leased to the owner for this long (renew with `extend`). */
  leaseMs: number;
}

/**
 * Something from outside the run (a hook payload, an event, a cancel or restart request) waiting
 * for the run's driver. An event stays until a wait of its type takes it (events are kept in the
 * order they were stored, which is the order `list` returns them in).
 */
export interface InboxItem {
  itemId: string;
  runId: string;
  /**
   * `pause_abort` is a pause that also aborts the signals of the steps in flight; `resume` lifts
   * a pause that the run's driver is still carrying out; `restart` stops the run for a restart
   * (see `generation`).
   */
  kind: "hook_payload" | "event" | "cancel" | "pause" | "pause_abort" | "resume" | "restart";
  /** For hook payloads, the hook they are for. */
  hookId?: string;
  /** For events, their type. */
  eventType?: string;
  /**
   * For restart requests, the generation of the run they stop (`run_restarted`; 1 before the
   * first restart): a driver drops a request for an earlier generation, made stale by another
   * restart that landed first.
   */
  generation?: number;
  payload?: Uint8Array;
  createdAt: number;
}

/** The inbox kinds that ask something of the run itself rather than carry a payload. */
export const CONTROL_REQUEST_KINDS: ReadonlySet<InboxItem["kind"]> = new Set([
  "cancel",
  "restart",
  "pause",
  "pause_abort",
  "resume",
]);

export interface NewInboxItem {
  /**
   * The item's id, chosen by the caller when the payload is bound to it (an encrypted hook
   * payload or event names its inbox item); `inbox_` and a ULID from the World when omitted.
   */
  itemId?: string;
  runId: string;
  kind: InboxItem["kind"];
  hookId?: string;
  eventType?: string;
  /** For restart requests, the generation they stop (see `InboxItem.generation`). */
  generation?: number;
  payload?: Uint8Array;
}

/** A bound on what a write may add to a run (see `RunRecord.payloadBytes`). */
export interface RunBudget {
  /** The write is refused with `PayloadTooLargeError` if it would take the run past this many bytes. */
  maxRunBytes?: number;
}

export interface StreamChunk {
  index: number;
  data: Uint8Array;
  createdAt: number;
}

export interface StreamInfo {
  runId: string;
  name: string;
  /** Number of chunks written so far; the next chunk gets this index. */
  length: number;
  closed: boolean;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

export interface ListRunsFilter {
  status?: RunStatus | readonly RunStatus[];
  /** One workflow (its full id) or several: runs of any of them. An empty list matches nothing. */
  workflowName?: string | readonly string[];
  /**
   * Only runs created at or after this time (epoch ms, `RunRecord.createdAt`). Optional for a
   * World to honour in the sense that older Worlds ignore it; every World in this package does,
   * with the same index that orders the list (the conformance suite checks it).
   */
  createdSince?: number;
  /** Only runs created before this time (epoch ms, exclusive): with `createdSince`, a half-open range. */
  createdBefore?: number;
  /** Newest first; at most this many (default 50, at most 1000). */
  limit?: number;
  cursor?: string;
}

export interface CreateRunInput {
  runId: string;
  workflowName: string;
  specVersion: number;
  seed: string;
  /** Whether the run is encrypted (see `RunRecord.encrypted`); a World stores a missing value as false. */
  encrypted: boolean;
  input: Uint8Array;
  createdAt?: number;
  /**
   * The hash of the workflow bundle the run starts with (`bundles`), recorded in its `run_created`
   * event: the run replays with that code wherever it goes.
   */
  bundleHash?: string;
}

/** A version of a workflow bundle as stored: its code under its content hash (`bundles`). */
export interface BundleRecord {
  /** Hex SHA-256 of the code's UTF-8 text. */
  hash: string;
  /** Where the code was compiled from, for messages and stack traces. */
  filename: string;
  workflowIds: string[];
  /** The code's bytes, as the caller stored them. */
  code: Uint8Array;
  createdAt: number;
}

/**
 * A run as another World stored it, to be written here as it was (`runs.import`, for `npx
 * stepwise export` / `import`): its whole log with the original sequence numbers and times, the
 * inbox items still waiting, its streams, and the messages a worker needs to pick it up.
 */
export interface ImportRunInput {
  runId: string;
  workflowName: string;
  specVersion: number;
  seed: string;
  encrypted: boolean;
  /**
   * The log, seq 1 to n without gaps, beginning with its `run_created` (whose data names the same
   * workflow, seed and spec version as above). Payload bytes are stored as they are.
   */
  events: readonly EventRecord[];
  /** Items still waiting in its inbox, in the order they were stored (ids and times kept). */
  inbox?: readonly InboxItem[];
  /** Its streams, each with every chunk from index 0 (times kept) and whether it was closed. */
  streams?: readonly { name: string; closed: boolean; chunks: readonly StreamChunk[] }[];
  /** Messages to enqueue with it (a sleep's wake-up at its time, a start, an inbox look), unleased. */
  messages?: readonly { kind: string; dedupeKey?: string; availableAt: number }[];
}

/** What `runs.import` did. */
export interface ImportedRun {
  run: RunRecord;
  /** True when this call wrote the run; false when it was there already (same id, workflow and seed). */
  imported: boolean;
}

/** What `runs.createMany` returns for each input. */
export interface CreatedRun {
  run: RunRecord;
  /** True when this call created the run; false when it existed already (same id and workflow). */
  created: boolean;
}

export interface AppendRequest {
  runId: string;
  /** The `seq` the caller last saw; the append fails with `SequenceConflictError` if the log moved. */
  expectedSeq: number;
  /** When given, the run's lease must belong to this owner, or the append fails with `LeaseLostError`. */
  owner?: string;
  events: NewEvent[];
  /** Messages enqueued in the same transaction (a sleep's wake-up, a retry's next attempt). */
  enqueue?: NewMessage[];
  /** Inbox items taken in the same transaction; items already gone are ignored. */
  consumeInbox?: readonly string[];
  /** Messages (claimed by `owner`) acknowledged in the same transaction. */
  ack?: readonly string[];
  /**
   * Release the owner's lease in the same transaction, unless someone asked for the run meanwhile
   * (`wakePending`): then the lease stays, the flag is cleared, and `leaseReleased` is false.
   */
  releaseLease?: boolean;
}

/**
 * What an append tells of the run it wrote to: only what callers act on (the status the events
 * left it in, the byte count the next write is checked against). The rest of the run
 * (`runs.get`) is not sent back: a World need not read the run's input or output to answer.
 */
export interface AppendedRun {
  runId: string;
  /** The run's status after the append (`completed` when the events ended it, ...). */
  status: RunStatus;
  /** The run's new last sequence number (the same as `AppendResult.seq`). */
  seq: number;
  /** The run's `payloadBytes` after the append: its events' payloads added, the inbox items taken removed. */
  payloadBytes: number;
}

export interface AppendResult {
  /** The run's new last sequence number. */
  seq: number;
  /** The events as stored, numbered, with their times. */
  events: EventRecord[];
  /** Set when `releaseLease` was asked: whether the lease was released. */
  leaseReleased?: boolean;
  /** The run after the append, narrowed to what callers read (see `AppendedRun`). */
  run: AppendedRun;
}

export type AcquireResult = { acquired: true; run: RunRecord } | { acquired: false; run: RunRecord };

/**
 * What `runs.pickUp` answers: the acquire's result and, when the run was acquired and has not
 * ended, what a worker reads before it replays: the run's log (left out when the caller already
 * has it, see `knownSeq`) and its inbox.
 */
export type PickUpResult = AcquireResult & { events?: EventRecord[]; inbox?: InboxItem[] };

/** Who did something: the operating-system user, the host and the process, as the process saw them. */
export interface AuditActor {
  user: string;
  host: string;
  pid: number;
}

/** How an audited action ended, recorded in a second entry that refers to the first. */
export type AuditOutcome = "succeeded" | "failed";

/**
 * A record of someone reading protected data (decrypted payloads). Never changed or removed. An
 * action is recorded BEFORE it happens; how it ended is a second entry with `refersTo` (the first
 * entry's id) and `outcome`, since entries are never updated.
 */
export interface AuditEntry {
  /** `audit_` and a ULID. */
  auditId: string;
  /** When the World recorded it (epoch ms, the World's clock). */
  at: number;
  actor: AuditActor;
  /** What was done, e.g. "decrypt". */
  action: string;
  /** What was read, e.g. "runs", "steps", "events". */
  resource: string;
  /** The runs whose data was read, in the order given. */
  runIds: string[];
  /** Why, in the reader's words; absent when none was given. */
  reason?: string;
  /** For an entry that reports an outcome: the id of the entry recording the action. */
  refersTo?: string;
  /** How the action of `refersTo` ended. */
  outcome?: AuditOutcome;
  /** What happened, in words: why it failed, or what it did. */
  detail?: string;
}

export interface NewAuditEntry {
  actor: AuditActor;
  action: string;
  resource: string;
  runIds: readonly string[];
  reason?: string;
  refersTo?: string;
  outcome?: AuditOutcome;
  detail?: string;
}

export interface ListAuditFilter {
  /** Only entries whose `runIds` include this run. */
  runId?: string;
  /** Newest first; at most this many (default 50, at most 1000). */
  limit?: number;
  cursor?: string;
}

/**
 * Where a payload is stored in a run: the payload of one event of its log (which is also where the
 * run's input and output and its steps' arguments and results are read from), of one inbox item,
 * one chunk of a stream, or the static response of a webhook (`hookResponse`: the base64 `sealed`
 * field of the hook's metadata, kept in both its `hook_created` event and its hook record; the
 * rewrite's bytes are the decoded ones). Nothing else a World stores for a run holds payload bytes.
 */
export type PayloadSlot =
  | { kind: "event"; seq: number }
  | { kind: "inbox"; itemId: string }
  | { kind: "stream"; name: string; index: number }
  | { kind: "hookResponse"; hookId: string };

/** One payload to replace in place (see `World.payloads.rewrite`). */
export interface PayloadRewrite {
  slot: PayloadSlot;
  /** The bytes the caller read from the slot: it is rewritten only if it still holds exactly these. */
  expected: Uint8Array;
  /** The bytes to store instead; exactly as long as `expected` (the run's byte count does not move). */
  bytes: Uint8Array;
}

/** What `World.payloads.rewrite` did. */
export interface PayloadRewriteResult {
  /** Slots that held `expected` and now hold `bytes`. */
  rewritten: number;
  /** Slots left as they were: gone (an inbox item taken meanwhile) or holding other bytes. */
  skipped: number;
}

/**
 * A hint that something changed. Notifications may be coalesced, duplicated or (across processes)
 * reduced to `{ type: "any" }`; listeners re-read what they care about and never rely on payloads.
 */
export type WorldNotification =
  | { type: "queue" }
  /** The run changed; `status`, when given, is its status after the change. */
  | { type: "run"; runId: string; status?: RunStatus }
  /** Something for the run's driver arrived (an inbox item, or another worker asked for the run). */
  | { type: "inbox"; runId: string }
  | { type: "stream"; runId: string; name: string }
  | { type: "any" };

export interface World {
  /** A short name for messages: "memory", "local", "postgres", ... */
  readonly name: string;

  runs: {
    /**
     * Creates the run, appends its `run_created` event (seq 1) and enqueues its start message
     * (kind "start"), in one transaction. `payloadBytes` starts at the input's size.
     * Idempotent on `runId`: when a run with that id exists under the same `workflowName`, nothing
     * is written (no event, no message, no notification) and the existing run is returned, as it
     * is (its own seed, input and status); under another workflow it is a `RunIdConflictError` (a
     * `ConflictError`) naming the workflow that holds the id, and nothing is written. Of
     * concurrent creates with one id, exactly one writes.
     */
    create(input: CreateRunInput): Promise<RunRecord>;
    /**
     * Creates the runs in ONE transaction, each as `create` does, and returns them in the order
     * given, each with `created` (false for a run that already existed, which is returned as it
     * is). All or nothing: when any input hits `RunIdConflictError` nothing of the batch is
     * written. An id given twice in the batch follows the same rule as two calls (the second, of
     * the same workflow, returns the first's run with `created: false`). One commit: other
     * processes hear of the batch once (one `queue` hint; `run` hints for the created runs
     * in-process). An empty list writes nothing. Callers keep batches bounded (the API: 1000).
     */
    createMany(inputs: readonly CreateRunInput[]): Promise<CreatedRun[]>;
    /** `RunNotFoundError` if missing. */
    get(runId: string): Promise<RunRecord>;
    /** Newest first, filtered, paginated. An unknown cursor gives an empty page. */
    list(filter?: ListRunsFilter): Promise<Page<RunRecord>>;
    /**
     * The distinct workflow names (`RunRecord.workflowName`) of the stored runs, sorted as
     * JavaScript sorts strings. Costs about one index probe per name, not a scan of the runs: it is
     * how a short name a person types (`order`) finds the full ids to list runs by.
     */
    workflowNames(): Promise<string[]>;
    /**
     * Takes the run's lease for `owner` if it is free, expired, or already `owner`'s. Otherwise sets
     * `wakePending` on the run, so the holder looks again before releasing, notifies
     * `{ type: "inbox", runId }`, and returns `acquired: false`. `RunNotFoundError` if missing.
     * `wakePending` survives a takeover: the new owner's first release is refused once.
     */
    acquire(runId: string, owner: string, leaseMs: number): Promise<AcquireResult>;
    /**
     * Optional: `acquire`, then — when the run was acquired and has not ended — its whole log
     * (`events.list`) and its inbox (`inbox.list`), in one call. The log is left out when the run's
     * `seq` equals `knownSeq` (the caller has it already). A World whose every call is a network
     * round trip (the remote World) has it, so that a worker starts a run's first step one round
     * trip sooner; elsewhere `pickUpRun` (world/pick-up.ts) makes the three calls. It answers what
     * those calls would, read one after the other.
     */
    pickUp?(runId: string, owner: string, leaseMs: number, knownSeq?: number): Promise<PickUpResult>;
    /** Extends `owner`'s leases; returns the ids still held (the others were lost). */
    renew(owner: string, runIds: readonly string[], leaseMs: number): Promise<string[]>;
    /**
     * Releases `owner`'s lease unless `wakePending` is set, in which case the flag is cleared, the
     * lease stays, and the result is false. True also when `owner` held no lease.
     */
    release(runId: string, owner: string): Promise<boolean>;
    /**
     * Writes a run exported from another World (see `ImportRunInput`) in ONE transaction: the run,
     * its log as given (ids, sequence numbers, times, payload bytes), the projections its events
     * make (status, steps, hooks with their tokens, waits: the same projection `events.append`
     * applies, log segment by log segment), its inbox items, its streams and its messages.
     * `payloadBytes` is counted as for any run; no lease, `wakePending` false. Idempotent: a run
     * with that id, workflow and seed writes nothing and returns `imported: false` with the run
     * as it is (whatever its log has become since). Errors, with nothing written: the id held by
     * a run of another workflow or seed, `ImportConflictError`; a hook token of the log held by an
     * active hook of another run when the log makes it, `HookTokenConflictError`; a hook id held
     * by another run, an inbox item id taken, or a malformed input (gaps in the log, no
     * `run_created` first, its data not matching the input), `ConflictError`. Notifies as a
     * create does (`queue` when it enqueued, `run`).
     */
    import(input: ImportRunInput): Promise<ImportedRun>;
  };

  events: {
    /**
     * Appends events to a run's log and updates the projections (run, steps, hooks, waits) in the
     * same transaction, together with the enqueues, inbox takes, acks and lease release of the
     * request. Errors: `RunNotFoundError`; `SequenceConflictError` when the log moved;
     * `LeaseLostError` when `owner` does not hold the lease; `RunFinishedError` when the run has
     * already ended; `HookTokenConflictError` when a `hook_created` uses a token held by another
     * active hook (including another `hook_created` earlier in the same request). On any error
     * nothing is written. An append with no events is valid: it only does the rest of the request.
     * Further rules every World follows (the conformance suite checks them): a reused hook or wait
     * id is a `ConflictError`; a `hook_disposed` for another run's hook is ignored; messages for
     * unknown runs are skipped; `ack` needs `owner`; an owner may append while nobody holds the
     * lease, but a lease held by someone else fails even when expired; an append that ends the
     * run releases the lease even if `wakePending` is set.
     * Notifies `{ type: "run", runId, status }` (and `{ type: "queue" }` when it enqueued); other
     * processes are told only when the run's status changed or it enqueued.
     * The run's `payloadBytes` grows by the events' payload bytes and shrinks by the payload bytes
     * of the inbox items taken (no limit is checked here: the runtime checks before it appends).
     * Returns the new `seq`, the events as stored, `leaseReleased` when a release was asked, and
     * the run narrowed to its id, status, `seq` and `payloadBytes` (`AppendedRun`): read the run
     * (`runs.get`) for anything else.
     */
    append(request: AppendRequest): Promise<AppendResult>;
    /** Events after `afterSeq` (default 0), in order, at most `limit`. `RunNotFoundError` if missing. */
    list(runId: string, options?: { afterSeq?: number; limit?: number }): Promise<EventRecord[]>;
  };

  steps: {
    /** In the order they were first started. `RunNotFoundError` if the run is missing. */
    list(runId: string): Promise<StepRecord[]>;
    /** `NotFoundError` if missing. */
    get(runId: string, stepId: string): Promise<StepRecord>;
  };

  hooks: {
    /** The active hook holding `token`. `HookNotFoundError` if none. */
    getByToken(token: string): Promise<HookRecord>;
    /** `NotFoundError` if missing. */
    get(hookId: string): Promise<HookRecord>;
    /** A run's hooks, or all hooks (newest first) when no run is given. */
    list(filter?: { runId?: string; status?: HookStatus; limit?: number }): Promise<HookRecord[]>;
  };

  waits: {
    /**
     * A run's waits (sleeps and event waits) in creation order, or all waits (newest first) when
     * no run is given.
     */
    list(filter?: { runId?: string; status?: WaitStatus; limit?: number }): Promise<WaitRecord[]>;
  };

  queue: {
    /** Adds messages (see `NewMessage.dedupeKey`). `RunNotFoundError` for an unknown run. */
    enqueue(messages: readonly NewMessage[]): Promise<void>;
    /**
     * Claims up to `limit` messages, oldest `availableAt` first, leasing them to `owner` for
     * `leaseMs`: waiting messages that are due, and claimed messages whose lease expired (they
     * were due when first claimed; their `availableAt` is not looked at again). With `workflows`,
     * only messages whose run's workflow is in the list are claimed (see `ClaimOptions.workflows`);
     * with `versions`, only those of runs pinned to one of them or not pinned yet.
     */
    claim(owner: string, options: ClaimOptions): Promise<QueueMessage[]>;
    /** Deletes messages leased to `owner`; ids not leased to `owner` are ignored. */
    ack(owner: string, messageIds: readonly string[]): Promise<void>;
    /** Returns a leased message to the queue, available again at `availableAt` (default now). */
    release(owner: string, messageId: string, availableAt?: number): Promise<void>;
    /** Extends `owner`'s message leases; returns the ids still held. */
    extend(owner: string, messageIds: readonly string[], leaseMs: number): Promise<string[]>;
    /**
     * When the next message becomes claimable: now or earlier if one is due, undefined if none.
     * With a filter, only messages a claim with the same filter could take count, so a worker
     * never arms a timer for (or spins on) messages it can never claim.
     */
    nextAvailableAt(filter?: QueueFilter): Promise<number | undefined>;
    /** Messages for a run (for inspection and tests). */
    list(runId: string): Promise<QueueMessage[]>;
  };

  inbox: {
    /**
     * Stores an item for a run and enqueues a message (kind "inbox") in one transaction, then
     * notifies `{ type: "inbox", runId }`. The payload's bytes count toward the run's
     * `payloadBytes` while the item waits (an append that takes the item gives them back).
     * `RunNotFoundError` for an unknown run; `RunFinishedError` if the run has ended;
     * `PayloadTooLargeError` if the payload would take the run past `budget.maxRunBytes`;
     * `ConflictError` if `itemId` is taken. On any error nothing is written.
     */
    put(item: NewInboxItem, budget?: RunBudget): Promise<InboxItem>;
    /** Items waiting for a run, oldest first. */
    list(runId: string): Promise<InboxItem[]>;
  };

  streams: {
    /**
     * Appends chunks to a run's named stream (created on first write) and optionally closes it;
     * their bytes count toward the run's `payloadBytes`. Returns the stream after the write.
     * `RunNotFoundError`; `ConflictError` if already closed; `PayloadTooLargeError` if the chunks
     * would take the run past `options.maxRunBytes` (nothing is written then).
     */
    write(
      runId: string,
      name: string,
      chunks: readonly Uint8Array[],
      options?: { close?: boolean } & RunBudget,
    ): Promise<StreamInfo>;
    /**
     * Chunks from index `from` (default 0), at most `limit` (default 1000). A `from` past the end
     * gives no chunks. `NotFoundError` if the stream was never written.
     */
    read(
      runId: string,
      name: string,
      options?: { from?: number; limit?: number },
    ): Promise<{ chunks: StreamChunk[]; info: StreamInfo }>;
    /** `NotFoundError` if the stream was never written. */
    info(runId: string, name: string): Promise<StreamInfo>;
    /** A run's streams. */
    list(runId: string): Promise<StreamInfo[]>;
  };

  payloads: {
    /**
     * Replaces stored payload bytes in place, for re-encrypting them under another key (`npx
     * stepwise rekey`); nothing else of the run changes (no event, no sequence number, no
     * timestamp, no byte count, no notification). Each rewrite is a compare-and-swap: a slot
     * is rewritten only while it holds `expected`, so rewriting twice, or after someone else
     * did, changes nothing more, and a slot that is gone is skipped. One transaction: a reader
     * sees each slot with its old or its new bytes, never anything else, and a batch is
     * all or nothing. Finished runs are rewritten like any other. `RunNotFoundError` for an
     * unknown run; `ConflictError` (nothing written) when a rewrite's `bytes` are not exactly as
     * long as its `expected`. Callers keep batches bounded (rekey: 200).
     */
    rewrite(runId: string, rewrites: readonly PayloadRewrite[]): Promise<PayloadRewriteResult>;
  };

  bundles: {
    /**
     * Stores a version of a workflow bundle under its hash, once: storing a hash that is stored
     * already changes nothing (every process that starts runs stores the code it runs, and the
     * same code has the same hash). The World does not read the code; the caller checks the
     * hash of what it gets back.
     */
    put(bundle: Omit<BundleRecord, "createdAt">): Promise<void>;
    /** The stored bundle with this hash; `NotFoundError` if none. */
    get(hash: string): Promise<BundleRecord>;
    /** The hashes of every stored bundle, in no particular order (`rekey` walks them). */
    hashes(): Promise<string[]>;
    /**
     * Replaces a stored bundle's bytes with `to` (the same code, encrypted or re-encrypted), only
     * if they are still `from`: true when replaced. Compare-and-swap, so concurrent writers and a
     * rerun after a crash never lose a copy. `NotFoundError` if no bundle has this hash.
     */
    rewrite(hash: string, from: Uint8Array, to: Uint8Array): Promise<boolean>;
  };

  notices: {
    /**
     * Records that the notice `key` was given to the people using this World's storage (a data
     * directory, a database), for what is said once per storage rather than by every process:
     * true the first time `key` is recorded (the caller says its notice now), false ever after,
     * in every process sharing the storage. Of concurrent first records, exactly one gets true.
     */
    record(key: string): Promise<boolean>;
  };

  audit: {
    /**
     * Appends an entry; the World assigns `auditId` and `at` (its clock) and returns the stored
     * entry. Run ids need not exist (an audit trail outlives the runs it mentions), nor need the
     * entry `refersTo` names (it is stored as given). Durable once the promise resolves: callers
     * record BEFORE they show what the entry covers, then record the outcome.
     */
    record(entry: NewAuditEntry): Promise<AuditEntry>;
    /**
     * Entries newest first (by `at`, ties by `auditId` descending), optionally only those naming
     * `runId`; paginated like `runs.list` (the cursor is an `auditId`; an unknown one gives an empty page).
     */
    list(filter?: ListAuditFilter): Promise<Page<AuditEntry>>;
  };

  /**
   * Optional: the workers a Stepwise server knows (`workers/register` of the worker protocol). A
   * World over a server (the remote World) has it; a World that is only storage leaves it out, and
   * the conformance suite does not ask for it.
   */
  workers?: {
    /**
     * The full ids of the workflows that live workers registered with the server, sorted, each
     * once (a Python worker's workflows among them): how a client that has no code for a workflow
     * finds it by its plain name (`start("ai_content_workflow", …)`).
     */
    workflows(): Promise<string[]>;
    /**
     * Optional: tells the server that this process drives `workflows` (full ids), so a client
     * elsewhere — a Python one — finds them by their plain names. A listing lapses a minute after
     * the last call: a worker repeats it (the TypeScript worker does every 15 s, and at once when
     * its workflows change).
     */
    announce?(workflows: readonly string[]): Promise<void>;
  };

  /** Subscribes to change hints (see `WorldNotification`); returns the unsubscribe function. */
  subscribe(listener: (notification: WorldNotification) => void): () => void;

  /** Commits what is pending, then releases connections, files and timers. Further calls reject with `ConflictError`. */
  close(): Promise<void>;
}
