/**
 * Every SQL statement the postgres World runs outside its migrations, in one place: plain SQL over
 * the World's schema (`s`, quoted), positional parameters. Hot statements are named (node-postgres
 * prepares a named statement once per connection); the name includes a hash of the schema so two
 * Worlds on different schemas can share a pool. Each write that others must hear about calls
 * `pg_notify` in the same statement (the notification is sent at commit, and only then). Row
 * shapes are in `rows.ts`; the append itself is the `append_batch` function of migration 002.
 *
 * Leases (of runs and of messages) are set and compared on the database's clock, never on the
 * calling process's: `clock(n)` is parameter `$n` when the World runs on a test clock, and
 * `clock_timestamp()` when that parameter is NULL (always, in production). A row that shows a
 * lease also carries `clock_now`, the database clock it was read at, so the World can show the
 * expiry on the caller's wall clock. When a message is due (`available_at`) stays on the wall
 * clock of the processes involved: a delay is a wall-clock promise.
 */
import { createHash } from "node:crypto";
import { createVersionQueries } from "./version-queries.ts";

export interface Statement {
  name?: string;
  text: string;
}

const RUN_COLUMNS = `r.run_id, r.workflow_name, r.status, r.seq, r.spec_version, r.seed, r.encrypted,
  r.payload_bytes, r.created_at, r.started_at, r.completed_at, r.updated_at, r.lease_owner,
  r.lease_expires_at, r.wake_pending, r.bundle_hash`;

const MESSAGE_COLUMNS =
  "message_id, run_id, kind, dedupe_key, available_at, deliveries, lease_owner, lease_expires_at, created_at";

/** The database's clock in epoch ms. */
const DB_CLOCK = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/** The lease clock: the test clock in parameter `$n`, or the database's clock when it is NULL. */
const clock = (n: number): string => `coalesce($${n}::bigint, ${DB_CLOCK})`;

export function createQueries(s: string) {
  const tag = createHash("sha1").update(s).digest("hex").slice(0, 8);
  const named = (name: string, text: string): Statement => ({ name: `sw_${tag}_${name}`, text });

  /**
   * A run with its input (event 1's payload) and final payload (its last event's, once it ended),
   * and the lease clock (parameter `$clockParam`) it was read at.
   */
  const runWith = (from: string, clockParam: number): string => `
    SELECT ${RUN_COLUMNS}, i.payload AS input, t.payload AS final_payload, ${clock(clockParam)} AS clock_now
    FROM ${from}
    JOIN ${s}.events i ON i.run_id = r.run_id AND i.seq = 1
    LEFT JOIN ${s}.events t ON r.status IN ('completed', 'failed') AND t.run_id = r.run_id AND t.seq = r.seq`;

  const stepSelect = `
    SELECT st.run_id, st.step_id, st.step_name, st.status, st.attempt, i.payload AS input,
           o.payload AS output, e.payload AS error, st.created_at, st.started_at, st.completed_at,
           st.retry_at, st.updated_at
    FROM ${s}.steps st
    LEFT JOIN ${s}.events i ON i.run_id = st.run_id AND i.seq = st.input_seq
    LEFT JOIN ${s}.events o ON o.run_id = st.run_id AND o.seq = st.output_seq
    LEFT JOIN ${s}.events e ON e.run_id = st.run_id AND e.seq = st.error_seq`;

  return {
    // ---- appends and streams (functions of migration 002)
    /** $1 requests (jsonb), $2 all payload bytes, $3 channel, $4 origin. */
    appendBatch: named(
      "append_batch",
      `SELECT outcome FROM ${s}.append_batch($1::jsonb, $2::bytea, $3, $4) AS outcome`,
    ),
    streamWrite: named(
      "stream_write",
      `SELECT o_found, o_length, o_closed, o_refused, o_bytes
       FROM ${s}.stream_write($1, $2, $3::bytea, $4::integer[], $5, $6::bigint, $7, $8, $9::bigint)`,
    ),

    // ---- runs
    /** $1 run id, $2 workflow, $3 spec version, $4 seed, $5 created at, $6 data, $7 input,
     *  $8 start message id, $9 now, $10 channel, $11 notification, $12 encrypted. No row: the id
     *  exists. */
    createRun: named(
      "create_run",
      `WITH run AS (
         INSERT INTO ${s}.runs (run_id, workflow_name, status, seq, spec_version, seed, encrypted,
                                payload_bytes, created_at, updated_at, bundle_hash)
         VALUES ($1, $2, 'pending', 1, $3, $4, $12, octet_length($7::bytea), $5, $5, $6::jsonb->>'bundleHash')
         ON CONFLICT (run_id) DO NOTHING
         RETURNING run_id),
       created AS (
         INSERT INTO ${s}.events (run_id, seq, type, data, payload, created_at)
         SELECT run_id, 1, 'run_created', $6::jsonb, $7::bytea, $5 FROM run),
       start AS (
         INSERT INTO ${s}.queue (message_id, run_id, kind, dedupe_key, available_at, created_at, workflow_name,
                                 version)
         SELECT $8, run_id, 'start', 'start:' || run_id, $5, $9, $2, coalesce($6::jsonb->>'bundleHash', '') FROM run
         ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND lease_owner IS NULL DO NOTHING)
       SELECT run_id, pg_notify($10, $11) FROM run`,
    ),
    /** $1 run ids, $2 workflows, $3 spec versions, $4 seeds, $5 encrypted, $6 created at, $7 data,
     *  $8 inputs, $9 start message ids, $10 now. Inserts in run id order (so concurrent batches
     *  lock ids in one order and never deadlock); returns the ids it inserted (an existing id is
     *  left alone). Runs inside `createMany`'s transaction, which checks the rest. */
    createRuns: named(
      "create_runs",
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::boolean[],
                              $6::bigint[], $7::jsonb[], $8::bytea[], $9::text[])
           AS i(run_id, workflow_name, spec_version, seed, encrypted, created_at, data, input, message_id)),
       run AS (
         INSERT INTO ${s}.runs (run_id, workflow_name, status, seq, spec_version, seed, encrypted,
                                payload_bytes, created_at, updated_at, bundle_hash)
         SELECT run_id, workflow_name, 'pending', 1, spec_version, seed, encrypted, octet_length(input),
                created_at, created_at, data->>'bundleHash'
         FROM input ORDER BY run_id COLLATE "C"
         ON CONFLICT (run_id) DO NOTHING
         RETURNING run_id),
       created AS (
         INSERT INTO ${s}.events (run_id, seq, type, data, payload, created_at)
         SELECT i.run_id, 1, 'run_created', i.data, i.input, i.created_at FROM input i JOIN run USING (run_id)),
       start AS (
         INSERT INTO ${s}.queue (message_id, run_id, kind, dedupe_key, available_at, created_at, workflow_name,
                                 version)
         SELECT i.message_id, i.run_id, 'start', 'start:' || i.run_id, i.created_at, $10, i.workflow_name,
                coalesce(i.data->>'bundleHash', '')
         FROM input i JOIN run USING (run_id)
         ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND lease_owner IS NULL DO NOTHING)
       SELECT run_id FROM run`,
    ),
    /** $1 run ids, $2 lease clock: those runs, as `run` reads one. */
    runsByIds: named("runs_by_ids", `${runWith(`${s}.runs r`, 2)} WHERE r.run_id = ANY($1::text[])`),
    /** $1 channel, $2 payload: a notification sent when the transaction commits. */
    notify: named("notify", "SELECT pg_notify($1, $2)"),
    /** $1 run id, $2 lease clock. */
    run: named("run", `${runWith(`${s}.runs r`, 2)} WHERE r.run_id = $1`),
    runExists: named("run_exists", `SELECT 1 FROM ${s}.runs WHERE run_id = $1`),
    /** Built per filter: $1 is the limit, $2 the lease clock, `where` uses $3 and on. */
    listRuns: (where: string[]): Statement => ({
      text: `${runWith(`${s}.runs r`, 2)}
        ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY r.created_at DESC, r.run_id DESC LIMIT $1`,
    }),
    /** A loose index scan of runs_by_workflow: one probe per distinct name, never a pass over the runs. */
    workflowNames: named(
      "workflow_names",
      `WITH RECURSIVE names(name) AS (
         SELECT (SELECT min(workflow_name) FROM ${s}.runs)
         UNION ALL
         SELECT (SELECT min(r.workflow_name) FROM ${s}.runs r WHERE r.workflow_name > names.name)
         FROM names WHERE names.name IS NOT NULL
       ) SELECT name FROM names WHERE name IS NOT NULL`,
    ),
    /** Keyset condition: after the run named by parameter `$n` (an unknown run matches nothing). */
    afterRun: (n: number): string =>
      `(r.created_at, r.run_id) < (SELECT c.created_at, c.run_id FROM ${s}.runs c WHERE c.run_id = $${n})`,
    /** $1 run, $2 owner, $3 lease clock, $4 lease ms, $5 channel, $6 notification (sent when refused). */
    acquire: named(
      "acquire",
      `WITH c AS (SELECT ${clock(3)} AS now),
       r AS (
         UPDATE ${s}.runs u SET
           wake_pending = CASE WHEN u.lease_owner <> $2 AND u.lease_expires_at > c.now
                               THEN true ELSE u.wake_pending END,
           lease_expires_at = CASE WHEN u.lease_owner <> $2 AND u.lease_expires_at > c.now
                                   THEN u.lease_expires_at ELSE c.now + $4::bigint END,
           lease_owner = CASE WHEN u.lease_owner <> $2 AND u.lease_expires_at > c.now
                              THEN u.lease_owner ELSE $2 END
         FROM c
         WHERE u.run_id = $1
         RETURNING u.*)
       SELECT q.*, CASE WHEN q.lease_owner <> $2 THEN pg_notify($5, $6) END AS notified
       FROM (${runWith("r", 3)}) q`,
    ),
    /** $1 lease ms, $2 run ids, $3 owner, $4 lease clock. Locks in run id order, as appends do
     *  (no deadlocks). */
    renew: named(
      "renew",
      `WITH held AS (
         SELECT run_id FROM ${s}.runs WHERE run_id = ANY($2::text[]) AND lease_owner = $3
         ORDER BY run_id FOR UPDATE)
       UPDATE ${s}.runs r SET lease_expires_at = ${clock(4)} + $1::bigint FROM held
       WHERE r.run_id = held.run_id
       RETURNING r.run_id`,
    ),
    /** $1 run, $2 owner. refused: wakePending was set, so the lease stays (the flag is cleared). */
    release: named(
      "release",
      `WITH u AS (
         UPDATE ${s}.runs SET wake_pending = false,
           lease_owner = CASE WHEN wake_pending THEN lease_owner END,
           lease_expires_at = CASE WHEN wake_pending THEN lease_expires_at END
         WHERE run_id = $1 AND lease_owner = $2
         RETURNING lease_owner IS NOT NULL AS refused)
       SELECT EXISTS (SELECT 1 FROM ${s}.runs WHERE run_id = $1) AS found, (SELECT refused FROM u) AS refused`,
    ),

    // ---- events and projections
    events: named(
      "events",
      `SELECT run_id, seq, type, data, payload, created_at FROM ${s}.events
       WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    ),
    steps: named("steps", `${stepSelect} WHERE st.run_id = $1 ORDER BY st.first_seq`),
    step: named("step", `${stepSelect} WHERE st.run_id = $1 AND st.step_id = $2`),
    hook: named("hook", `SELECT * FROM ${s}.hooks WHERE hook_id = $1`),
    hookByToken: named("hook_by_token", `SELECT * FROM ${s}.hooks WHERE token = $1 AND status = 'active'`),
    runHooks: named(
      "run_hooks",
      `SELECT * FROM ${s}.hooks WHERE run_id = $1 AND ($2::text IS NULL OR status = $2)
       ORDER BY id LIMIT $3`,
    ),
    allHooks: named(
      "all_hooks",
      `SELECT * FROM ${s}.hooks WHERE $1::text IS NULL OR status = $1 ORDER BY id DESC LIMIT $2`,
    ),
    runWaits: named(
      "run_waits",
      `SELECT * FROM ${s}.waits WHERE run_id = $1 AND ($2::text IS NULL OR status = $2)
       ORDER BY id LIMIT $3`,
    ),
    allWaits: named(
      "all_waits",
      `SELECT * FROM ${s}.waits WHERE $1::text IS NULL OR status = $1 ORDER BY id DESC LIMIT $2`,
    ),

    // ---- queue
    /** $1 messages (jsonb: id, run, kind, key, at), $2 now, $3 channel, $4 notification. */
    enqueue: named(
      "enqueue",
      `WITH m AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS m(id text, run text, kind text, key text, at bigint)),
       missing AS (
         SELECT m.run FROM m WHERE NOT EXISTS (SELECT 1 FROM ${s}.runs r WHERE r.run_id = m.run) LIMIT 1),
       ins AS (
         INSERT INTO ${s}.queue (message_id, run_id, kind, dedupe_key, available_at, created_at, workflow_name,
                                 version)
         SELECT m.id, m.run, m.kind, m.key, coalesce(m.at, $2::bigint), $2::bigint, r.workflow_name,
                coalesce(r.bundle_hash, '')
         FROM m JOIN ${s}.runs r ON r.run_id = m.run
         WHERE NOT EXISTS (SELECT 1 FROM missing)
         ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND lease_owner IS NULL DO NOTHING)
       SELECT (SELECT run FROM missing) AS missing,
              CASE WHEN NOT EXISTS (SELECT 1 FROM missing) THEN pg_notify($3, $4) END AS notified`,
    ),
    /** $1 now (wall clock: when messages are due), $2 limit, $3 owner, $4 lease ms, $5 lease
     *  clock. Due waiting messages and claims whose lease ran out (whatever their available_at:
     *  they were due when claimed), oldest first. */
    claim: named(
      "claim",
      `WITH c AS (SELECT ${clock(5)} AS now),
       waiting AS (
         SELECT message_id, available_at FROM ${s}.queue
         WHERE lease_owner IS NULL AND available_at <= $1::bigint
         ORDER BY available_at, message_id LIMIT $2 FOR UPDATE SKIP LOCKED),
       expired AS (
         SELECT message_id, available_at FROM ${s}.queue
         WHERE lease_owner IS NOT NULL AND lease_expires_at <= (SELECT now FROM c)
         ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED),
       picked AS (
         SELECT message_id FROM (SELECT * FROM waiting UNION ALL SELECT * FROM expired) m
         ORDER BY available_at, message_id LIMIT $2)
       UPDATE ${s}.queue q SET lease_owner = $3, lease_expires_at = (SELECT now FROM c) + $4::bigint,
         deliveries = q.deliveries + 1
       FROM picked WHERE q.message_id = picked.message_id
       RETURNING q.message_id, q.run_id, q.kind, q.dedupe_key, q.available_at, q.deliveries,
                 q.lease_owner, q.lease_expires_at, q.created_at, (SELECT now FROM c) AS clock_now`,
    ),
    /**
     * `claim` for the workflows in $6 (a JSON array), the other parameters as `claim`'s: per
     * workflow (LATERAL), one range of `queue_waiting_by_workflow` and one of
     * `queue_leased_by_workflow`, each stopping at the limit, so other workflows' messages are
     * never read. The list is JSON rather than text[]: `unnest` of an array parameter is estimated
     * from its value, which kept PostgreSQL re-planning this statement on every call (custom
     * plans) at about three times its cost.
     */
    claimFor: named(
      "claim_for",
      `WITH c AS (SELECT ${clock(5)} AS now),
       w AS (SELECT DISTINCT value AS name FROM jsonb_array_elements_text($6::jsonb)),
       waiting AS (
         SELECT m.message_id, m.available_at FROM w CROSS JOIN LATERAL (
           SELECT message_id, available_at FROM ${s}.queue
           WHERE workflow_name = w.name AND lease_owner IS NULL AND available_at <= $1::bigint
           ORDER BY available_at, message_id LIMIT $2 FOR UPDATE SKIP LOCKED) m),
       expired AS (
         SELECT m.message_id, m.available_at FROM w CROSS JOIN LATERAL (
           SELECT message_id, available_at FROM ${s}.queue
           WHERE workflow_name = w.name AND lease_owner IS NOT NULL
             AND lease_expires_at <= (SELECT now FROM c)
           ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) m),
       picked AS (
         SELECT message_id FROM (SELECT * FROM waiting UNION ALL SELECT * FROM expired) m
         ORDER BY available_at, message_id LIMIT $2)
       UPDATE ${s}.queue q SET lease_owner = $3, lease_expires_at = (SELECT now FROM c) + $4::bigint,
         deliveries = q.deliveries + 1
       FROM picked WHERE q.message_id = picked.message_id
       RETURNING q.message_id, q.run_id, q.kind, q.dedupe_key, q.available_at, q.deliveries,
                 q.lease_owner, q.lease_expires_at, q.created_at, (SELECT now FROM c) AS clock_now`,
    ),
    /**
     * `claim` for the runs in $6 (a JSON array), and only the workflows in $7 and the versions in
     * $8 (JSON arrays, or NULL for any), the other parameters as `claim`'s: read through `queue_by_run`, so another
     * run's messages are never looked at (`QueueFilter.runIds`).
     */
    claimForRuns: named(
      "claim_for_runs",
      `WITH c AS (SELECT ${clock(5)} AS now),
       picked AS (
         SELECT message_id FROM ${s}.queue
         WHERE run_id IN (SELECT value FROM jsonb_array_elements_text($6::jsonb))
           AND ($7::jsonb IS NULL OR workflow_name IN (SELECT value FROM jsonb_array_elements_text($7::jsonb)))
           AND ($8::jsonb IS NULL OR version IN (SELECT value FROM jsonb_array_elements_text($8::jsonb)))
           AND ((lease_owner IS NULL AND available_at <= $1::bigint)
             OR (lease_owner IS NOT NULL AND lease_expires_at <= (SELECT now FROM c)))
         ORDER BY available_at, message_id LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE ${s}.queue q SET lease_owner = $3, lease_expires_at = (SELECT now FROM c) + $4::bigint,
         deliveries = q.deliveries + 1
       FROM picked WHERE q.message_id = picked.message_id
       RETURNING q.message_id, q.run_id, q.kind, q.dedupe_key, q.available_at, q.deliveries,
                 q.lease_owner, q.lease_expires_at, q.created_at, (SELECT now FROM c) AS clock_now`,
    ),
    /** Locks in message id order, as `extend` and append batches do (no deadlocks). */
    ack: named(
      "ack",
      `WITH held AS (
         SELECT message_id FROM ${s}.queue WHERE message_id = ANY($1::text[]) AND lease_owner = $2
         ORDER BY message_id FOR UPDATE)
       DELETE FROM ${s}.queue q USING held WHERE q.message_id = held.message_id`,
    ),
    /** $1 available at, $2 message, $3 owner, $4 channel, $5 notification. A waiting message that
     *  holds the same dedupe key keeps it; the released one then drops its key. */
    releaseMessage: named(
      "release_message",
      `UPDATE ${s}.queue q SET lease_owner = NULL, lease_expires_at = NULL, available_at = $1,
         dedupe_key = CASE WHEN EXISTS (SELECT 1 FROM ${s}.queue w
                                        WHERE w.dedupe_key = q.dedupe_key AND w.lease_owner IS NULL)
                           THEN NULL ELSE q.dedupe_key END
       WHERE q.message_id = $2 AND q.lease_owner = $3
       RETURNING pg_notify($4, $5)`,
    ),
    /** $1 lease ms, $2 message ids, $3 owner, $4 lease clock. Locks in message id order. */
    extend: named(
      "extend",
      `WITH held AS (
         SELECT message_id FROM ${s}.queue WHERE message_id = ANY($2::text[]) AND lease_owner = $3
         ORDER BY message_id FOR UPDATE)
       UPDATE ${s}.queue q SET lease_expires_at = ${clock(4)} + $1::bigint FROM held
       WHERE q.message_id = held.message_id
       RETURNING q.message_id`,
    ),
    /** $1 now (the caller's wall clock), $2 lease clock. Waiting messages count from availableAt,
     *  claimed ones from when their lease runs out, moved from the database's clock to the caller's. */
    nextAvailableAt: named(
      "next_available_at",
      `SELECT least(
         (SELECT min(available_at) FROM ${s}.queue WHERE lease_owner IS NULL),
         (SELECT min(lease_expires_at) FROM ${s}.queue WHERE lease_owner IS NOT NULL)
           - ${clock(2)} + $1::bigint) AS next`,
    ),
    /** `nextAvailableAt` for the workflows in $3 (a JSON array): two index probes per workflow. */
    nextAvailableAtFor: named(
      "next_available_at_for",
      `WITH w AS (SELECT DISTINCT value AS name FROM jsonb_array_elements_text($3::jsonb))
       SELECT least(
         (SELECT min((SELECT min(available_at) FROM ${s}.queue
                      WHERE lease_owner IS NULL AND workflow_name = w.name)) FROM w),
         (SELECT min((SELECT min(lease_expires_at) FROM ${s}.queue
                      WHERE lease_owner IS NOT NULL AND workflow_name = w.name)) FROM w)
           - ${clock(2)} + $1::bigint) AS next`,
    ),
    /** `nextAvailableAt` for the runs in $3, the workflows in $4 and the versions in $5 (JSON
     *  arrays; $4, $5 NULL: any). */
    nextAvailableAtForRuns: named(
      "next_available_at_for_runs",
      `WITH m AS (
         SELECT available_at, lease_owner, lease_expires_at FROM ${s}.queue
         WHERE run_id IN (SELECT value FROM jsonb_array_elements_text($3::jsonb))
           AND ($4::jsonb IS NULL OR workflow_name IN (SELECT value FROM jsonb_array_elements_text($4::jsonb)))
           AND ($5::jsonb IS NULL OR version IN (SELECT value FROM jsonb_array_elements_text($5::jsonb))))
       SELECT least(
         (SELECT min(available_at) FROM m WHERE lease_owner IS NULL),
         (SELECT min(lease_expires_at) FROM m WHERE lease_owner IS NOT NULL) - ${clock(2)} + $1::bigint) AS next`,
    ),
    ...createVersionQueries(s, named, clock),
    /** $1 run id, $2 lease clock. */
    runMessages: named(
      "run_messages",
      `SELECT ${MESSAGE_COLUMNS}, ${clock(2)} AS clock_now FROM ${s}.queue WHERE run_id = $1
       ORDER BY message_id`,
    ),

    // ---- runs.import (import.ts), inside its transaction
    /** $1 run id, $2 workflow, $3 spec version, $4 seed, $5 encrypted, $6 created at, $7 input,
     *  $8 run_created data, $9 bundle hash. The run's row and its run_created; no row when the id exists. */
    importRun: named(
      "import_run",
      `WITH run AS (
         INSERT INTO ${s}.runs (run_id, workflow_name, status, seq, spec_version, seed, encrypted,
                                payload_bytes, created_at, updated_at, bundle_hash)
         VALUES ($1, $2, 'pending', 1, $3, $4, $5, octet_length($7::bytea), $6, $6, $9)
         ON CONFLICT (run_id) DO NOTHING
         RETURNING run_id)
       INSERT INTO ${s}.events (run_id, seq, type, data, payload, created_at)
       SELECT run_id, 1, 'run_created', $8::jsonb, $7::bytea, $6 FROM run
       RETURNING run_id`,
    ),
    /** $1 item id, $2 run, $3 kind, $4 hook, $5 event type, $6 generation, $7 payload, $8 created
     *  at. No row when the item id is taken. */
    importInboxItem: named(
      "import_inbox_item",
      `INSERT INTO ${s}.inbox (item_id, run_id, kind, hook_id, event_type, generation, payload, created_at)
       VALUES ($1, $2, $3, $4, $5, $6::integer, $7::bytea, $8::bigint)
       ON CONFLICT (item_id) DO NOTHING RETURNING item_id`,
    ),
    /** $1 run, $2 name, $3 length, $4 closed, $5 created at, $6 chunk indexes, $7 their bytes, $8
     *  their times: the stream and all its chunks. */
    importStream: named(
      "import_stream",
      `WITH stream AS (
         INSERT INTO ${s}.streams (run_id, name, length, closed, created_at) VALUES ($1, $2, $3, $4, $5))
       INSERT INTO ${s}.stream_chunks (run_id, name, idx, data, created_at)
       SELECT $1, $2, c.idx, c.data, c.created_at
       FROM unnest($6::integer[], $7::bytea[], $8::bigint[]) AS c(idx, data, created_at)`,
    ),
    /** $1 run, $2 bytes its inbox items and stream chunks add to its total. */
    importBytes: named(
      "import_bytes",
      `UPDATE ${s}.runs SET payload_bytes = payload_bytes + $2 WHERE run_id = $1`,
    ),
    /** $1 id, $2 run, $3 kind, $4 dedupe key, $5 available at, $6 now, $7 workflow. */
    importMessage: named(
      "import_message",
      `INSERT INTO ${s}.queue (message_id, run_id, kind, dedupe_key, available_at, created_at, workflow_name)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND lease_owner IS NULL DO NOTHING`,
    ),

    // ---- inbox
    /** $1 run, $2 item id, $3 kind, $4 hook, $5 payload, $6 now, $7 message id, $8 channel, $9
     *  notification, $10 the run's byte limit, $11 event type, $12 generation. status: null (no run), terminal
     *  (refused, nothing written), or written. */
    putInbox: named(
      "put_inbox",
      `WITH run AS (
         SELECT run_id, status, payload_bytes, workflow_name, bundle_hash FROM ${s}.runs WHERE run_id = $1 FOR UPDATE),
       ok AS (
         SELECT run_id FROM run WHERE status NOT IN ('completed', 'failed', 'cancelled')
           AND ($10::bigint IS NULL OR payload_bytes + coalesce(octet_length($5::bytea), 0) <= $10::bigint)),
       item AS (
         INSERT INTO ${s}.inbox (item_id, run_id, kind, hook_id, event_type, generation, payload, created_at)
         SELECT $2, run_id, $3, $4, $11, $12::integer, $5::bytea, $6::bigint FROM ok
         ON CONFLICT (item_id) DO NOTHING RETURNING run_id),
       counted AS (
         UPDATE ${s}.runs SET payload_bytes = payload_bytes + coalesce(octet_length($5::bytea), 0)
         WHERE run_id IN (SELECT run_id FROM item)),
       message AS (
         INSERT INTO ${s}.queue (message_id, run_id, kind, available_at, created_at, workflow_name, version)
         SELECT $7, run_id, 'inbox', $6::bigint, $6::bigint, (SELECT workflow_name FROM run),
                (SELECT coalesce(bundle_hash, '') FROM run) FROM item)
       SELECT (SELECT status FROM run) AS status, (SELECT payload_bytes FROM run) AS payload_bytes,
              EXISTS (SELECT 1 FROM item) AS stored, (SELECT pg_notify($8, $9) FROM item) AS notified`,
    ),
    /** A run's items, oldest first; one row with a null item_id when the run has none, none when
     *  there is no such run (a driver reads its inbox when it takes a run: one round trip). */
    inbox: named(
      "inbox",
      `SELECT i.item_id, r.run_id, i.kind, i.hook_id, i.event_type, i.generation, i.payload, i.created_at
       FROM ${s}.runs r LEFT JOIN ${s}.inbox i ON i.run_id = r.run_id
       WHERE r.run_id = $1 ORDER BY i.id`,
    ),

    // ---- streams
    /** One row when the stream exists: its info and the chunks from $3, at most $4. */
    readStream: named(
      "read_stream",
      `SELECT st.length, st.closed, c.idx, c.data, c.created_at
       FROM ${s}.streams st
       LEFT JOIN LATERAL (
         SELECT idx, data, created_at FROM ${s}.stream_chunks
         WHERE run_id = st.run_id AND name = st.name AND idx >= $3 ORDER BY idx LIMIT $4) c ON true
       WHERE st.run_id = $1 AND st.name = $2
       ORDER BY c.idx`,
    ),
    streams: named(
      "streams",
      `SELECT run_id, name, length, closed FROM ${s}.streams WHERE run_id = $1 ORDER BY id`,
    ),

    // ---- payloads.rewrite: compare-and-swap of one slot's bytes; a row back when it was rewritten
    /** $1 run, $2 seq, $3 expected, $4 new bytes. */
    rewriteEventPayload: named(
      "rewrite_event_payload",
      `UPDATE ${s}.events SET payload = $4 WHERE run_id = $1 AND seq = $2 AND payload = $3 RETURNING seq`,
    ),
    /** $1 run, $2 item id, $3 expected, $4 new bytes. */
    /** $1 run, $2 hook id, $3 expected base64, $4 new base64: a webhook's static response, in its
     *  hook record and its hook_created event (one statement). A row back when the hook's changed. */
    rewriteHookResponse: named(
      "rewrite_hook_response",
      `WITH event AS (
         UPDATE ${s}.events SET data = jsonb_set(data, '{meta,sealed}', to_jsonb($4::text))
         WHERE run_id = $1 AND type = 'hook_created' AND data->>'hookId' = $2 AND data->'meta'->>'sealed' = $3)
       UPDATE ${s}.hooks SET meta = jsonb_set(meta, '{sealed}', to_jsonb($4::text))
       WHERE run_id = $1 AND hook_id = $2 AND meta->>'sealed' = $3 RETURNING hook_id`,
    ),
    /** $1 run, $2 seq, $3 field (`logs` or `workflowLogs`), $4 expected base64, $5 new base64: an
     *  event's console output (step logs). */
    rewriteEventLogs: named(
      "rewrite_event_logs",
      `UPDATE ${s}.events SET data = jsonb_set(data, ARRAY[$3::text, 'sealed'], to_jsonb($5::text))
       WHERE run_id = $1 AND seq = $2 AND data->$3::text->>'sealed' = $4 RETURNING seq`,
    ),
    rewriteInboxPayload: named(
      "rewrite_inbox_payload",
      `UPDATE ${s}.inbox SET payload = $4 WHERE run_id = $1 AND item_id = $2 AND payload = $3 RETURNING item_id`,
    ),
    /** $1 run, $2 stream name, $3 chunk index, $4 expected, $5 new bytes. */
    rewriteChunk: named(
      "rewrite_chunk",
      `UPDATE ${s}.stream_chunks SET data = $5
       WHERE run_id = $1 AND name = $2 AND idx = $3 AND data = $4 RETURNING idx`,
    ),

    // ---- bundles (migration 012)
    /** $1 hash, $2 filename, $3 workflow ids, $4 code, $5 now: stored once per hash. */
    putBundle: named(
      "put_bundle",
      `INSERT INTO ${s}.bundles (hash, filename, workflow_ids, code, created_at)
       VALUES ($1, $2, $3::text[], $4, $5) ON CONFLICT (hash) DO NOTHING`,
    ),
    bundle: named(
      "bundle",
      `SELECT hash, filename, workflow_ids, code, created_at FROM ${s}.bundles WHERE hash = $1`,
    ),
    bundleHashes: named("bundle_hashes", `SELECT hash FROM ${s}.bundles`),
    /** $1 hash, $2 the bytes expected, $3 the new bytes: a row back when replaced. */
    rewriteBundle: named(
      "rewrite_bundle",
      `UPDATE ${s}.bundles SET code = $3 WHERE hash = $1 AND code = $2 RETURNING hash`,
    ),

    // ---- audit
    /** $1 key, $2 now: a row back when the notice was not recorded before. */
    recordNotice: named(
      "record_notice",
      `INSERT INTO ${s}.notices (key, at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key`,
    ),
    recordAudit: named(
      "record_audit",
      `INSERT INTO ${s}.audit (audit_id, at, actor_user, actor_host, actor_pid, action, resource, run_ids, reason,
                              refers_to, outcome, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9, $10, $11, $12)`,
    ),
    /** $1 limit, $2 cursor (an audit id; unknown: no rows), $3 run id: newest first. */
    auditPage: named(
      "audit_page",
      `SELECT * FROM ${s}.audit a
       WHERE ($3::text IS NULL OR a.run_ids @> ARRAY[$3::text])
         AND ($2::text IS NULL OR (a.at, a.audit_id) < (SELECT c.at, c.audit_id FROM ${s}.audit c WHERE c.audit_id = $2))
       ORDER BY a.at DESC, a.audit_id DESC LIMIT $1`,
    ),
  };
}

export type Queries = ReturnType<typeof createQueries>;
