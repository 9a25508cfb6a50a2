/**
 * Every SQL statement the local World runs, prepared once per connection and kept here in one place
 * (plain SQL, no ORM). Positional parameters on the hot paths (append, claim); named ones where a
 * statement has many. Rows are typed in `rows.ts`.
 */
import type Database from "better-sqlite3";
import type {
  AuditRow,
  EventRow,
  HookRow,
  InboxRow,
  MessageRow,
  RunHeadRow,
  RunRow,
  StepRow,
  StreamRow,
  WaitRow,
} from "../sql/rows.ts";
import { prepareRunClaimStatements } from "./run-claim-statements.ts";
import { prepareVersionClaimStatements } from "./version-claim-statements.ts";

/** The part of better-sqlite3's Statement the World uses (a name declaration files can spell). */
export interface Stmt<P extends unknown[], R = unknown> {
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
  pluck(toggle?: boolean): this;
}

/** The runs columns as stored, lease columns raw (lease-clock.ts). */
const RUN_HEAD =
  "run_id, workflow_name, status, seq, spec_version, seed, encrypted, payload_bytes, created_at, started_at, completed_at, updated_at, lease_owner, lease_expires_at, wake_pending, lease_clock, lease_until, bundle_hash";

/** A stored lease's expiry on this process's wall clock (the SQL function of lease-clock.ts). */
const leaseWall = (table: string): string =>
  `stepwise_lease_wall(${table}lease_expires_at, ${table}lease_clock, ${table}lease_until) AS lease_expires_at`;

/** The stored lease has run out (the SQL function of lease-clock.ts). */
const LEASE_EXPIRED = "stepwise_lease_expired(lease_expires_at, lease_clock, lease_until)";

/**
 * A run with its input (event 1's payload) and final payload (its last event's, once it ended);
 * its lease's expiry on this process's wall clock.
 */
export const RUN_SELECT = `
SELECT r.run_id, r.workflow_name, r.status, r.seq, r.spec_version, r.seed, r.encrypted, r.payload_bytes,
       r.created_at, r.started_at, r.completed_at, r.updated_at, r.lease_owner, ${leaseWall("r.")},
       r.wake_pending, r.bundle_hash,
       i.payload AS input, t.payload AS final_payload
FROM runs r
JOIN events i ON i.run_id = r.run_id AND i.seq = 1
LEFT JOIN events t ON r.status IN ('completed', 'failed') AND t.run_id = r.run_id AND t.seq = r.seq`;

const STEP_SELECT = `
SELECT s.run_id, s.step_id, s.step_name, s.status, s.attempt, i.payload AS input, o.payload AS output,
       e.payload AS error, s.created_at, s.started_at, s.completed_at, s.retry_at, s.updated_at
FROM steps s
LEFT JOIN events i ON i.run_id = s.run_id AND i.seq = s.input_seq
LEFT JOIN events o ON o.run_id = s.run_id AND o.seq = s.output_seq
LEFT JOIN events e ON e.run_id = s.run_id AND e.seq = s.error_seq`;

/** A message, its lease's expiry on this process's wall clock. */
const MESSAGE_COLUMNS = `message_id, run_id, kind, dedupe_key, available_at, deliveries, lease_owner, ${leaseWall("")}, created_at`;

export function prepareStatements(db: Database.Database) {
  const prep = <P extends unknown[], R = unknown>(source: string): Stmt<P, R> =>
    db.prepare(source) as unknown as Stmt<P, R>;
  return {
    // runs
    runExists: prep<[runId: string], number>("SELECT 1 FROM runs WHERE run_id = ?").pluck(),
    runHead: prep<[runId: string], LocalRunHeadRow>(`SELECT ${RUN_HEAD} FROM runs WHERE run_id = ?`),
    run: prep<[runId: string], RunRow>(`${RUN_SELECT} WHERE r.run_id = ?`),
    runCreatedAt: prep<[runId: string], number>("SELECT created_at FROM runs WHERE run_id = ?").pluck(),
    /** A loose index scan of runs_by_workflow: one probe per distinct name, never a pass over the runs. */
    workflowNames: prep<[], string>(
      `WITH RECURSIVE names(name) AS (
         SELECT (SELECT min(workflow_name) FROM runs)
         UNION ALL
         SELECT (SELECT min(workflow_name) FROM runs WHERE workflow_name > names.name)
         FROM names WHERE names.name IS NOT NULL
       ) SELECT name FROM names WHERE name IS NOT NULL`,
    ).pluck(),
    insertRun: prep<
      [
        runId: string,
        workflowName: string,
        specVersion: number,
        seed: string,
        encrypted: number,
        payloadBytes: number,
        createdAt: number,
        updatedAt: number,
        bundleHash: string | null,
      ]
    >(
      `INSERT INTO runs (run_id, workflow_name, status, seq, spec_version, seed, encrypted, payload_bytes,
                         created_at, updated_at, bundle_hash)
       VALUES (?, ?, 'pending', 1, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING`,
    ),
    /** A `run.version` effect: the run's code version, and its spec version raised (never lowered). */
    setRunVersion: prep<[bundleHash: string, minSpecVersion: number, runId: string]>(
      "UPDATE runs SET bundle_hash = ?, spec_version = max(spec_version, ?) WHERE run_id = ?",
    ),
    /** Everything an append or a lease change may alter, in one write. */
    updateRun: prep<
      [
        status: string,
        seq: number,
        payloadBytes: number,
        startedAt: number | null,
        completedAt: number | null,
        updatedAt: number,
        leaseOwner: string | null,
        leaseExpiresAt: number | null,
        wakePending: number,
        runId: string,
      ]
    >(
      `UPDATE runs SET status = ?, seq = ?, payload_bytes = ?, started_at = ?, completed_at = ?,
       updated_at = ?, lease_owner = ?, lease_expires_at = ?, wake_pending = ? WHERE run_id = ?`,
    ),
    /**
     * `updateRun` for an append that leaves the status as it was (a step's checkpoint): naming
     * `status` in SET rewrites its index entry even when the value is unchanged, one more page
     * per step.
     */
    updateRunProgress: prep<
      [
        seq: number,
        payloadBytes: number,
        startedAt: number | null,
        completedAt: number | null,
        updatedAt: number,
        leaseOwner: string | null,
        leaseExpiresAt: number | null,
        wakePending: number,
        runId: string,
      ]
    >(
      `UPDATE runs SET seq = ?, payload_bytes = ?, started_at = ?, completed_at = ?, updated_at = ?,
       lease_owner = ?, lease_expires_at = ?, wake_pending = ? WHERE run_id = ?`,
    ),
    /** Counts bytes stored outside the log (inbox payloads, stream chunks) toward the run's total. */
    addPayloadBytes: prep<[bytes: number, runId: string]>(
      "UPDATE runs SET payload_bytes = payload_bytes + ? WHERE run_id = ?",
    ),
    setLease: prep<
      [
        owner: string,
        expiresAt: number,
        clock: string | null,
        until: number | null,
        wakePending: number,
        runId: string,
      ]
    >(
      `UPDATE runs SET lease_owner = ?, lease_expires_at = ?, lease_clock = ?, lease_until = ?, wake_pending = ?
       WHERE run_id = ?`,
    ),
    clearLease: prep<[runId: string]>(
      `UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL, lease_clock = NULL, lease_until = NULL,
       wake_pending = 0 WHERE run_id = ?`,
    ),
    setWakePending: prep<[wakePending: number, runId: string]>(
      "UPDATE runs SET wake_pending = ? WHERE run_id = ?",
    ),
    renewLease: prep<
      [expiresAt: number, clock: string | null, until: number | null, runId: string, owner: string]
    >(
      "UPDATE runs SET lease_expires_at = ?, lease_clock = ?, lease_until = ? WHERE run_id = ? AND lease_owner = ?",
    ),

    // events
    insertEvent: prep<
      [runId: string, seq: number, type: string, data: string, payload: Uint8Array | null, createdAt: number]
    >("INSERT INTO events (run_id, seq, type, data, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)"),
    events: prep<[runId: string, afterSeq: number, limit: number], EventRow>(
      "SELECT run_id, seq, type, data, payload, created_at FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    ),

    // steps
    startStep: prep<
      [
        runId: string,
        stepId: string,
        stepName: string,
        attempt: number,
        inputSeq: number | null,
        createdAt: number,
        startedAt: number,
        updatedAt: number,
      ]
    >(
      `INSERT INTO steps (run_id, step_id, step_name, status, attempt, input_seq, created_at, started_at, updated_at)
       VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, step_id) DO UPDATE SET
         status = 'running', attempt = excluded.attempt, started_at = excluded.started_at,
         updated_at = excluded.updated_at`,
    ),
    /** NULL leaves a column as it is (the projection's patch sets only what it names). */
    updateStep: prep<
      [
        status: string | null,
        attempt: number | null,
        outputSeq: number | null,
        errorSeq: number | null,
        startedAt: number | null,
        completedAt: number | null,
        retryAt: number | null,
        updatedAt: number,
        runId: string,
        stepId: string,
      ]
    >(
      `UPDATE steps SET status = coalesce(?, status), attempt = coalesce(?, attempt),
         output_seq = coalesce(?, output_seq), error_seq = coalesce(?, error_seq),
         started_at = coalesce(?, started_at), completed_at = coalesce(?, completed_at),
         retry_at = coalesce(?, retry_at), updated_at = ?
       WHERE run_id = ? AND step_id = ?`,
    ),
    steps: prep<[runId: string], StepRow>(`${STEP_SELECT} WHERE s.run_id = ? ORDER BY s.rowid`),
    step: prep<[runId: string, stepId: string], StepRow>(
      `${STEP_SELECT} WHERE s.run_id = ? AND s.step_id = ?`,
    ),

    // hooks
    hookExists: prep<[hookId: string], number>("SELECT 1 FROM hooks WHERE hook_id = ?").pluck(),
    tokenHolder: prep<[token: string], string>(
      "SELECT run_id FROM hooks WHERE token = ? AND status = 'active'",
    ).pluck(),
    insertHook: prep<
      [hookId: string, runId: string, token: string, kind: string, meta: string | null, createdAt: number]
    >(
      "INSERT INTO hooks (hook_id, run_id, token, kind, status, meta, created_at) VALUES (?, ?, ?, ?, 'active', ?, ?)",
    ),
    disposeHook: prep<[at: number, hookId: string, runId: string]>(
      "UPDATE hooks SET status = 'disposed', disposed_at = ? WHERE hook_id = ? AND run_id = ? AND status = 'active'",
    ),
    disposeRunHooks: prep<[at: number, runId: string]>(
      "UPDATE hooks SET status = 'disposed', disposed_at = ? WHERE run_id = ? AND status = 'active'",
    ),
    /** A restart keeps the hook: it listens again (its token checked free by the caller). */
    rearmHook: prep<[hookId: string, runId: string]>(
      "UPDATE hooks SET status = 'active', disposed_at = NULL WHERE hook_id = ? AND run_id = ?",
    ),
    hookToken: prep<[hookId: string, runId: string], string>(
      "SELECT token FROM hooks WHERE hook_id = ? AND run_id = ?",
    ).pluck(),
    hook: prep<[hookId: string], HookRow>("SELECT * FROM hooks WHERE hook_id = ?"),
    hookByToken: prep<[token: string], HookRow>("SELECT * FROM hooks WHERE token = ? AND status = 'active'"),
    runHooks: prep<[runId: string, status: string | null, sameStatus: string | null, limit: number], HookRow>(
      "SELECT * FROM hooks WHERE run_id = ? AND (? IS NULL OR status = ?) ORDER BY rowid LIMIT ?",
    ),
    allHooks: prep<[status: string | null, sameStatus: string | null, limit: number], HookRow>(
      "SELECT * FROM hooks WHERE (? IS NULL OR status = ?) ORDER BY rowid DESC LIMIT ?",
    ),

    // waits
    insertWait: prep<
      [
        runId: string,
        waitId: string,
        kind: string,
        eventType: string | null,
        resumeAt: number,
        createdAt: number,
      ]
    >(
      `INSERT INTO waits (run_id, wait_id, kind, event_type, resume_at, status, created_at)
       VALUES (?, ?, ?, ?, ?, 'waiting', ?)
       ON CONFLICT (run_id, wait_id) DO NOTHING`,
    ),
    completeWait: prep<[status: string, at: number, runId: string, waitId: string]>(
      "UPDATE waits SET status = ?, completed_at = ? WHERE run_id = ? AND wait_id = ?",
    ),
    /** A restart keeps the wait: it waits again. */
    rearmWait: prep<[runId: string, waitId: string]>(
      "UPDATE waits SET status = 'waiting', completed_at = NULL WHERE run_id = ? AND wait_id = ?",
    ),
    /** The run ended: its sleeps still waiting are cancelled. */
    cancelRunWaits: prep<[at: number, runId: string]>(
      "UPDATE waits SET status = 'cancelled', completed_at = ? WHERE run_id = ? AND status = 'waiting'",
    ),
    runWaits: prep<[runId: string, status: string | null, sameStatus: string | null, limit: number], WaitRow>(
      "SELECT * FROM waits WHERE run_id = ? AND (? IS NULL OR status = ?) ORDER BY rowid LIMIT ?",
    ),
    allWaits: prep<[status: string | null, sameStatus: string | null, limit: number], WaitRow>(
      "SELECT * FROM waits WHERE (? IS NULL OR status = ?) ORDER BY rowid DESC LIMIT ?",
    ),

    // queue
    waitingWithKey: prep<[dedupeKey: string], number>(
      "SELECT 1 FROM queue WHERE dedupe_key = ? AND lease_owner IS NULL LIMIT 1",
    ).pluck(),
    /**
     * The message carries its run's workflow and version (for filtered claims); a missing run fails
     * NOT NULL.
     */
    insertMessage: prep<
      [
        messageId: string,
        runId: string,
        kind: string,
        dedupeKey: string | null,
        availableAt: number,
        createdAt: number,
        sameRunId: string,
      ]
    >(
      `INSERT INTO queue (message_id, run_id, kind, dedupe_key, available_at, created_at, workflow_name, version)
       SELECT ?, ?, ?, ?, ?, ?, r.workflow_name, coalesce(r.bundle_hash, '')
       FROM (SELECT 1) LEFT JOIN runs r ON r.run_id = ?`,
    ),
    /** Owners holding unexpired message leases (some may be dead processes). */
    leaseOwners: prep<[], string>(
      `SELECT DISTINCT lease_owner FROM queue WHERE lease_owner IS NOT NULL AND NOT ${LEASE_EXPIRED}`,
    ).pluck(),
    /**
     * Waiting messages that are due (`available_at`, on the wall clock) and claimed messages whose
     * lease ran out or whose owner died (they were due when claimed), oldest first.
     */
    claim: prep<
      [
        {
          owner: string;
          expiresAt: number;
          clock: string | null;
          until: number | null;
          now: number;
          dead: string;
          limit: number;
        },
      ],
      MessageRow
    >(
      `UPDATE queue SET lease_owner = @owner, lease_expires_at = @expiresAt, lease_clock = @clock,
         lease_until = @until, deliveries = deliveries + 1
       WHERE message_id IN (
         SELECT message_id FROM (
           SELECT * FROM (
             SELECT message_id, available_at FROM queue
             WHERE available_at <= @now AND lease_owner IS NULL
             ORDER BY available_at, message_id LIMIT @limit)
           UNION ALL
           -- No ORDER BY here: the planner then reads only the leased rows (their partial index).
           SELECT message_id, available_at FROM queue
           WHERE lease_owner IS NOT NULL
             AND (${LEASE_EXPIRED} OR lease_owner IN (SELECT value FROM json_each(@dead))))
         ORDER BY available_at, message_id
         LIMIT @limit)
       RETURNING ${MESSAGE_COLUMNS}`,
    ),
    /**
     * `claim` for the workflows in the JSON list `@workflows`: waiting messages through one range
     * of `queue_waiting_by_workflow` per workflow (the planner stops once the limit is filled),
     * leased ones through their partial index; never another workflow's messages.
     */
    claimFor: prep<
      [
        {
          owner: string;
          expiresAt: number;
          clock: string | null;
          until: number | null;
          now: number;
          dead: string;
          limit: number;
          workflows: string;
        },
      ],
      MessageRow
    >(
      `UPDATE queue SET lease_owner = @owner, lease_expires_at = @expiresAt, lease_clock = @clock,
         lease_until = @until, deliveries = deliveries + 1
       WHERE message_id IN (
         SELECT message_id FROM (
           SELECT * FROM (
             SELECT message_id, available_at FROM queue INDEXED BY queue_waiting_by_workflow
             WHERE workflow_name IN (SELECT value FROM json_each(@workflows))
               AND available_at <= @now AND lease_owner IS NULL
             ORDER BY available_at, message_id LIMIT @limit)
           UNION ALL
           SELECT message_id, available_at FROM queue
           WHERE lease_owner IS NOT NULL AND workflow_name IN (SELECT value FROM json_each(@workflows))
             AND (${LEASE_EXPIRED} OR lease_owner IN (SELECT value FROM json_each(@dead))))
         ORDER BY available_at, message_id
         LIMIT @limit)
       RETURNING ${MESSAGE_COLUMNS}`,
    ),
    ack: prep<[messageId: string, owner: string]>(
      "DELETE FROM queue WHERE message_id = ? AND lease_owner = ?",
    ),
    releaseMessage: prep<[availableAt: number, messageId: string, owner: string]>(
      `UPDATE queue SET lease_owner = NULL, lease_expires_at = NULL, lease_clock = NULL, lease_until = NULL,
         available_at = ?
       WHERE message_id = ? AND lease_owner = ?`,
    ),
    extendMessage: prep<
      [expiresAt: number, clock: string | null, until: number | null, messageId: string, owner: string]
    >(
      `UPDATE queue SET lease_expires_at = ?, lease_clock = ?, lease_until = ?
       WHERE message_id = ? AND lease_owner = ?`,
    ),
    nextWaiting: prep<[], number | null>(
      "SELECT min(available_at) FROM queue WHERE lease_owner IS NULL",
    ).pluck(),
    /** When a claimed message can next be claimed again: now if its owner died, else when its lease runs out. */
    nextLeased: prep<[{ now: number; dead: string }], number | null>(
      `SELECT min(CASE WHEN lease_owner IN (SELECT value FROM json_each(@dead)) THEN @now
                       ELSE stepwise_lease_wall(lease_expires_at, lease_clock, lease_until) END)
         FROM queue WHERE lease_owner IS NOT NULL`,
    ).pluck(),
    /** `nextWaiting` for the workflows in a JSON list: one index probe per workflow. */
    nextWaitingFor: prep<[workflows: string], number | null>(
      `SELECT min((SELECT min(available_at) FROM queue
                   WHERE lease_owner IS NULL AND workflow_name = w.value))
         FROM json_each(?) w`,
    ).pluck(),
    /** `nextLeased` for the workflows in the JSON list `@workflows` (leased messages are few: their index). */
    nextLeasedFor: prep<[{ now: number; dead: string; workflows: string }], number | null>(
      `SELECT min(CASE WHEN lease_owner IN (SELECT value FROM json_each(@dead)) THEN @now
                       ELSE stepwise_lease_wall(lease_expires_at, lease_clock, lease_until) END)
         FROM queue INDEXED BY queue_leased_by_owner
         WHERE lease_owner IS NOT NULL AND workflow_name IN (SELECT value FROM json_each(@workflows))`,
    ).pluck(),
    ...prepareRunClaimStatements(prep, MESSAGE_COLUMNS, LEASE_EXPIRED),
    ...prepareVersionClaimStatements(prep, MESSAGE_COLUMNS, LEASE_EXPIRED),
    runMessages: prep<[runId: string], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM queue WHERE run_id = ? ORDER BY rowid`,
    ),

    // inbox
    insertInbox: prep<
      [
        itemId: string,
        runId: string,
        kind: string,
        hookId: string | null,
        eventType: string | null,
        generation: number | null,
        payload: Uint8Array | null,
        createdAt: number,
      ]
    >(
      "INSERT INTO inbox (item_id, run_id, kind, hook_id, event_type, generation, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    /** Takes an item; its payload's size (0 without one), or undefined when it was already gone. */
    consumeInbox: prep<[itemId: string, runId: string], number>(
      "DELETE FROM inbox WHERE item_id = ? AND run_id = ? RETURNING coalesce(length(payload), 0)",
    ).pluck(),
    inboxItemExists: prep<[itemId: string], number>("SELECT 1 FROM inbox WHERE item_id = ?").pluck(),
    inbox: prep<[runId: string], InboxRow>("SELECT * FROM inbox WHERE run_id = ? ORDER BY rowid"),

    // streams
    stream: prep<[runId: string, name: string], StreamRow>(
      "SELECT run_id, name, length, closed FROM streams WHERE run_id = ? AND name = ?",
    ),
    insertStream: prep<[runId: string, name: string, createdAt: number]>(
      "INSERT INTO streams (run_id, name, length, closed, created_at) VALUES (?, ?, 0, 0, ?)",
    ),
    updateStream: prep<[length: number, closed: number, runId: string, name: string]>(
      "UPDATE streams SET length = ?, closed = ? WHERE run_id = ? AND name = ?",
    ),
    insertChunk: prep<[runId: string, name: string, index: number, data: Uint8Array, createdAt: number]>(
      "INSERT INTO stream_chunks (run_id, name, idx, data, created_at) VALUES (?, ?, ?, ?, ?)",
    ),
    chunks: prep<
      [runId: string, name: string, from: number, limit: number],
      { idx: number; data: Uint8Array; created_at: number }
    >(
      "SELECT idx, data, created_at FROM stream_chunks WHERE run_id = ? AND name = ? AND idx >= ? ORDER BY idx LIMIT ?",
    ),
    streams: prep<[runId: string], StreamRow>(
      "SELECT run_id, name, length, closed FROM streams WHERE run_id = ? ORDER BY rowid",
    ),

    // payloads.rewrite: compare-and-swap of one slot's bytes (payloads.ts)
    rewriteEventPayload: prep<[bytes: Uint8Array, runId: string, seq: number, expected: Uint8Array]>(
      "UPDATE events SET payload = ? WHERE run_id = ? AND seq = ? AND payload = ?",
    ),
    rewriteInboxPayload: prep<[bytes: Uint8Array, runId: string, itemId: string, expected: Uint8Array]>(
      "UPDATE inbox SET payload = ? WHERE run_id = ? AND item_id = ? AND payload = ?",
    ),
    /** A webhook's static response (`meta.sealed`, base64) in its hook record, compare-and-swap. */
    rewriteHookResponse: prep<[to: string, runId: string, hookId: string, from: string]>(
      "UPDATE hooks SET meta = json_set(meta, '$.sealed', ?) WHERE run_id = ? AND hook_id = ? AND json_extract(meta, '$.sealed') = ?",
    ),
    /** The same in the hook's hook_created event. */
    rewriteHookCreatedResponse: prep<[to: string, runId: string, hookId: string, from: string]>(
      `UPDATE events SET data = json_set(data, '$.meta.sealed', ?)
       WHERE run_id = ? AND type = 'hook_created' AND json_extract(data, '$.hookId') = ? AND json_extract(data, '$.meta.sealed') = ?`,
    ),
    /** An event's console output (`data.logs` or `data.workflowLogs`: `sealed`, base64), compare-and-swap. */
    rewriteEventLogs: prep<
      [path: string, to: string, runId: string, seq: number, path2: string, from: string]
    >(
      "UPDATE events SET data = json_set(data, ?, ?) WHERE run_id = ? AND seq = ? AND json_extract(data, ?) = ?",
    ),
    rewriteChunk: prep<[bytes: Uint8Array, runId: string, name: string, index: number, expected: Uint8Array]>(
      "UPDATE stream_chunks SET data = ? WHERE run_id = ? AND name = ? AND idx = ? AND data = ?",
    ),

    /** Records a notice; one row changed: it was not recorded before. */
    recordNotice: prep<[key: string, at: number]>("INSERT OR IGNORE INTO notices (key, at) VALUES (?, ?)"),

    // bundles (migration 10): a workflow bundle's code under its content hash, stored once
    putBundle: prep<[hash: string, filename: string, workflowIds: string, code: Uint8Array, at: number]>(
      "INSERT OR IGNORE INTO bundles (hash, filename, workflow_ids, code, created_at) VALUES (?, ?, ?, ?, ?)",
    ),
    bundle: prep<
      [hash: string],
      { hash: string; filename: string; workflow_ids: string; code: Buffer; created_at: number }
    >("SELECT hash, filename, workflow_ids, code, created_at FROM bundles WHERE hash = ?"),
    bundleHashes: prep<[], { hash: string }>("SELECT hash FROM bundles"),
    /** Compare-and-swap of a bundle's bytes: one row changed when they were still the old ones. */
    rewriteBundle: prep<[to: Uint8Array, hash: string, from: Uint8Array]>(
      "UPDATE bundles SET code = ? WHERE hash = ? AND code = ?",
    ),

    // audit
    insertAudit: prep<
      [
        auditId: string,
        at: number,
        user: string,
        host: string,
        pid: number,
        action: string,
        resource: string,
        runIds: string,
        reason: string | null,
        refersTo: string | null,
        outcome: string | null,
        detail: string | null,
      ]
    >(
      `INSERT INTO audit (audit_id, at, actor_user, actor_host, actor_pid, action, resource, run_ids, reason,
                          refers_to, outcome, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    auditAt: prep<[auditId: string], number>("SELECT at FROM audit WHERE audit_id = ?").pluck(),
    /** Newest first, after the cursor entry (at, id) when given, naming `runId` when given. */
    auditPage: prep<
      [{ runId: string | null; cursorAt: number | null; cursorId: string | null; limit: number }],
      AuditRow
    >(
      `SELECT * FROM audit
       WHERE (@runId IS NULL OR EXISTS (SELECT 1 FROM json_each(audit.run_ids) WHERE value = @runId))
         AND (@cursorAt IS NULL OR at < @cursorAt OR (at = @cursorAt AND audit_id < @cursorId))
       ORDER BY at DESC, audit_id DESC LIMIT @limit`,
    ),

    // cross-process change detection
    dataVersion: prep<[], number>("PRAGMA data_version").pluck(),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

/** A runs row as stored, with the lease columns the shared `RunHeadRow` does not know. */
export interface LocalRunHeadRow extends RunHeadRow {
  lease_clock: string | null;
  lease_until: number | null;
}
