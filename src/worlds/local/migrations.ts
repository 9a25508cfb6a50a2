/**
 * The local World's schema, as numbered migrations of plain SQL (applied by `migrate.ts` when a
 * database is opened). The schema version lives in `PRAGMA user_version` (written in the same
 * transaction as the migration), `PRAGMA application_id` marks the file as Stepwise's, and a
 * database written by a newer Stepwise is refused rather than misread.
 *
 * Payload bytes are stored once, in `events.payload`: the run's input is its `run_created` payload,
 * its output or error the payload of its last event, and steps point at the events that carried
 * their input, output and error (`*_seq`). So a checkpoint writes its bytes once, and projection
 * updates are small rows.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** "STPW": marks a SQLite file as a Stepwise database. */
export const APPLICATION_ID = 0x53545057;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: `
CREATE TABLE runs (
  run_id           TEXT PRIMARY KEY NOT NULL,
  workflow_name    TEXT NOT NULL,
  status           TEXT NOT NULL,
  seq              INTEGER NOT NULL,
  spec_version     INTEGER NOT NULL,
  seed             TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  started_at       INTEGER,
  completed_at     INTEGER,
  updated_at       INTEGER NOT NULL,
  lease_owner      TEXT,
  lease_expires_at INTEGER,
  wake_pending     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_created  ON runs (created_at DESC, run_id DESC);
CREATE INDEX runs_by_status   ON runs (status, created_at DESC, run_id DESC);
CREATE INDEX runs_by_workflow ON runs (workflow_name, created_at DESC, run_id DESC);

CREATE TABLE events (
  run_id     TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  type       TEXT NOT NULL,
  data       TEXT NOT NULL,
  payload    BLOB,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE steps (
  run_id       TEXT NOT NULL,
  step_id      TEXT NOT NULL,
  step_name    TEXT NOT NULL,
  status       TEXT NOT NULL,
  attempt      INTEGER NOT NULL,
  input_seq    INTEGER,
  output_seq   INTEGER,
  error_seq    INTEGER,
  created_at   INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  completed_at INTEGER,
  retry_at     INTEGER,
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (run_id, step_id)
);

CREATE TABLE hooks (
  hook_id     TEXT PRIMARY KEY NOT NULL,
  run_id      TEXT NOT NULL,
  token       TEXT NOT NULL,
  kind        TEXT NOT NULL,
  status      TEXT NOT NULL,
  meta        TEXT,
  created_at  INTEGER NOT NULL,
  disposed_at INTEGER
);
-- An active hook holds its token exclusively.
CREATE UNIQUE INDEX hooks_active_token ON hooks (token) WHERE status = 'active';
CREATE INDEX hooks_by_run ON hooks (run_id, status);

CREATE TABLE waits (
  run_id       TEXT NOT NULL,
  wait_id      TEXT NOT NULL,
  resume_at    INTEGER NOT NULL,
  status       TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  completed_at INTEGER,
  PRIMARY KEY (run_id, wait_id)
);

CREATE TABLE queue (
  message_id       TEXT PRIMARY KEY NOT NULL,
  run_id           TEXT NOT NULL,
  kind             TEXT NOT NULL,
  dedupe_key       TEXT,
  available_at     INTEGER NOT NULL,
  deliveries       INTEGER NOT NULL DEFAULT 0,
  lease_owner      TEXT,
  lease_expires_at INTEGER,
  created_at       INTEGER NOT NULL
);
CREATE INDEX queue_by_available ON queue (available_at, message_id);
CREATE INDEX queue_waiting_by_key ON queue (dedupe_key) WHERE dedupe_key IS NOT NULL AND lease_owner IS NULL;
CREATE INDEX queue_waiting_by_available ON queue (available_at) WHERE lease_owner IS NULL;
CREATE INDEX queue_leased_by_owner ON queue (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX queue_by_run ON queue (run_id);

CREATE TABLE inbox (
  item_id    TEXT PRIMARY KEY NOT NULL,
  run_id     TEXT NOT NULL,
  kind       TEXT NOT NULL,
  hook_id    TEXT,
  payload    BLOB,
  created_at INTEGER NOT NULL
);
CREATE INDEX inbox_by_run ON inbox (run_id);

CREATE TABLE streams (
  run_id     TEXT NOT NULL,
  name       TEXT NOT NULL,
  length     INTEGER NOT NULL,
  closed     INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, name)
);

CREATE TABLE stream_chunks (
  run_id     TEXT NOT NULL,
  name       TEXT NOT NULL,
  idx        INTEGER NOT NULL,
  data       BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, name, idx)
);
`,
  },
  {
    version: 2,
    name: "audit trail",
    sql: `
-- Who read protected data (decrypted payloads), when and why. Rows are only ever inserted.
CREATE TABLE audit (
  audit_id   TEXT PRIMARY KEY NOT NULL,
  at         INTEGER NOT NULL,
  actor_user TEXT NOT NULL,
  actor_host TEXT NOT NULL,
  actor_pid  INTEGER NOT NULL,
  action     TEXT NOT NULL,
  resource   TEXT NOT NULL,
  run_ids    TEXT NOT NULL, -- JSON array of run ids, in the order given
  reason     TEXT
);
CREATE INDEX audit_by_time ON audit (at DESC, audit_id DESC);
`,
  },
  {
    version: 3,
    name: "run encryption and payload budget",
    sql: `
-- Whether the run was created encrypted (its payloads must all be), recorded at creation. Runs
-- from before: encrypted when their input (event 1) is.
ALTER TABLE runs ADD COLUMN encrypted INTEGER NOT NULL DEFAULT 0;
-- Bytes of payload stored for the run (log, stream chunks, waiting inbox items): its size budget.
ALTER TABLE runs ADD COLUMN payload_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE runs SET
  encrypted = coalesce((SELECT substr(e.payload, 1, 1) = x'02' FROM events e
                        WHERE e.run_id = runs.run_id AND e.seq = 1), 0),
  payload_bytes = coalesce((SELECT sum(length(e.payload)) FROM events e WHERE e.run_id = runs.run_id), 0)
    + coalesce((SELECT sum(length(c.data)) FROM stream_chunks c WHERE c.run_id = runs.run_id), 0)
    + coalesce((SELECT sum(length(i.payload)) FROM inbox i WHERE i.run_id = runs.run_id), 0);
`,
  },
  {
    version: 4,
    name: "leases on the monotonic clock",
    sql: `
-- A lease's expiry on the machine's monotonic clock, which a wall-clock step cannot move
-- (lease-clock.ts): lease_until in ms, lease_clock = '<boot clock id>:<lease_expires_at>'. NULL
-- (rows from before, or where no monotonic clock can be used): lease_expires_at is the lease.
ALTER TABLE runs ADD COLUMN lease_clock TEXT;
ALTER TABLE runs ADD COLUMN lease_until INTEGER;
ALTER TABLE queue ADD COLUMN lease_clock TEXT;
ALTER TABLE queue ADD COLUMN lease_until INTEGER;
`,
  },
  {
    version: 5,
    name: "claims filtered by workflow",
    sql: `
-- Each message carries its run's workflow (filled from runs when it is inserted), so a claim for
-- the workflows a worker has reads only their messages: a backlog of another application's
-- messages is never scanned (queue.claim's QueueFilter.workflows).
ALTER TABLE queue ADD COLUMN workflow_name TEXT NOT NULL DEFAULT '';
UPDATE queue SET workflow_name = coalesce((SELECT r.workflow_name FROM runs r WHERE r.run_id = queue.run_id), '');
-- claim and nextAvailableAt with workflows: the due waiting messages of each workflow, oldest first
-- (claimed ones are found through queue_leased_by_owner: they are few).
CREATE INDEX queue_waiting_by_workflow ON queue (workflow_name, available_at, message_id)
  WHERE lease_owner IS NULL;
`,
  },
  {
    version: 6,
    name: "audit outcomes",
    sql: `
-- How an audited action ended: a second entry refers to the first (entries are never updated).
ALTER TABLE audit ADD COLUMN refers_to TEXT;
ALTER TABLE audit ADD COLUMN outcome   TEXT; -- 'succeeded' | 'failed'
ALTER TABLE audit ADD COLUMN detail    TEXT;
`,
  },
  {
    version: 7,
    name: "notices said once, sleeps closed with their run",
    sql: `
-- Notices said once per data directory rather than by every process (notices.record): the
-- process that inserts a key says it.
CREATE TABLE notices (
  key TEXT PRIMARY KEY NOT NULL,
  at  INTEGER NOT NULL
);
-- A run that ends now cancels the sleeps it still waits on (projection.ts); those of runs that
-- ended before are cancelled here, at the time their run ended.
UPDATE waits SET status = 'cancelled',
  completed_at = (SELECT coalesce(r.completed_at, r.updated_at) FROM runs r WHERE r.run_id = waits.run_id)
WHERE status = 'waiting'
  AND run_id IN (SELECT run_id FROM runs WHERE status IN ('completed', 'failed', 'cancelled'));
`,
  },
  {
    version: 8,
    name: "events and event waits",
    sql: `
-- waitForEvent: an event wait is a wait of kind 'event' for one event type, whose resume_at is its
-- timeout (status 'timed_out' when it passed without an event). Every wait before is a sleep.
ALTER TABLE waits ADD COLUMN kind TEXT NOT NULL DEFAULT 'sleep';
ALTER TABLE waits ADD COLUMN event_type TEXT;
-- sendEvent: an event waits in the inbox (kind 'event') with its type until a wait takes it.
ALTER TABLE inbox ADD COLUMN event_type TEXT;
`,
  },
  {
    version: 9,
    name: "restart requests",
    sql: `
-- run.restart(): a restart request (inbox kind 'restart') names the generation of the run it stops.
ALTER TABLE inbox ADD COLUMN generation INTEGER;
`,
  },
  {
    version: 10,
    name: "workflow bundles",
    sql: `
-- Runs are pinned to the workflow code they started with: each version of a workflow bundle is
-- stored once under the hash of its code (bundles.put), and a run's run_created event names it.
CREATE TABLE bundles (
  hash         TEXT PRIMARY KEY NOT NULL,
  filename     TEXT NOT NULL,
  workflow_ids TEXT NOT NULL, -- JSON array
  code         BLOB NOT NULL,
  created_at   INTEGER NOT NULL
) WITHOUT ROWID;
`,
  },
  {
    version: 11,
    name: "run versions",
    sql: `
-- The version of the workflow code a run replays with (RunRecord.bundleHash): the latest bundle
-- hash its log names (run_created, run_started, run_upgraded), kept by every append; NULL for
-- runs older than pinning. Backfilled from the logs written before (only run_created and
-- run_started named one then; the latest wins, as pinnedHash reads it).
ALTER TABLE runs ADD COLUMN bundle_hash TEXT;
UPDATE runs SET bundle_hash = (
  SELECT json_extract(e.data, '$.bundleHash') FROM events e
  WHERE e.run_id = runs.run_id AND e.type IN ('run_created', 'run_started')
    AND json_extract(e.data, '$.bundleHash') IS NOT NULL
  ORDER BY e.seq DESC LIMIT 1);
`,
  },
  {
    version: 12,
    name: "claims filtered by version",
    sql: `
-- Each message carries the code version its run is pinned to (runs.bundle_hash; '' while the run
-- is not pinned), so a claim for the versions a worker can replay reads only their messages
-- (queue.claim's QueueFilter.versions): a backlog of another version's messages is never scanned.
-- Inserts fill it from runs (statements.ts); the trigger below moves a run's messages along when
-- its pin changes (run_started, run_upgraded), in the same transaction as the append.
ALTER TABLE queue ADD COLUMN version TEXT NOT NULL DEFAULT '';
UPDATE queue SET version = coalesce((SELECT r.bundle_hash FROM runs r WHERE r.run_id = queue.run_id), '');
-- claim and nextAvailableAt with versions (and workflows): the due waiting messages of each
-- version and workflow, oldest first (claimed ones are found through queue_leased_by_owner).
CREATE INDEX queue_waiting_by_version ON queue (version, workflow_name, available_at, message_id)
  WHERE lease_owner IS NULL;
CREATE TRIGGER queue_version_follows_run AFTER UPDATE OF bundle_hash ON runs
  WHEN NEW.bundle_hash IS NOT OLD.bundle_hash
BEGIN
  UPDATE queue SET version = coalesce(NEW.bundle_hash, '') WHERE run_id = NEW.run_id;
END;
`,
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce(
  (latest, migration) => Math.max(latest, migration.version),
  0,
);

/** The tables the migrations up to `version` create. */
export function tablesUpTo(version: number): string[] {
  return MIGRATIONS.filter((migration) => migration.version <= version).flatMap((migration) =>
    [...migration.sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/gi)].map((match) => match[1] as string),
  );
}

/** Every table a migration creates: a file without Stepwise's mark holding others is not ours. */
export const STEPWISE_TABLES: ReadonlySet<string> = new Set(tablesUpTo(LATEST_VERSION));
