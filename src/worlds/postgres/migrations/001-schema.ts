/**
 * Migration 001: the postgres World's tables and indexes, in the World's schema (`s`, quoted).
 *
 * Times are epoch milliseconds (`bigint`), payloads `bytea`, event metadata `jsonb`. Payload bytes
 * are stored once, in `events.payload`: a run's input is its `run_created` payload, its output or
 * error the payload of its last event, and steps point at the events that carried their input,
 * output and error (`*_seq`), so a checkpoint writes its bytes once. `runs` and `steps` are updated
 * on every checkpoint without touching indexed columns (except `status`), so the fill factors leave
 * room for HOT updates. Ids compare byte by byte (`COLLATE "C"`): the order JavaScript sorts them
 * in, whatever the database's locale, and cheaper to compare. Every hot query has its index; the
 * comments name the query.
 */
export const name = "tables and indexes";

export const sql = (s: string): string => `
CREATE TABLE ${s}.runs (
  run_id           text COLLATE "C" PRIMARY KEY,
  workflow_name    text NOT NULL,
  status           text NOT NULL,
  seq              integer NOT NULL,
  spec_version     integer NOT NULL,
  seed             text NOT NULL,
  created_at       bigint NOT NULL,
  started_at       bigint,
  completed_at     bigint,
  updated_at       bigint NOT NULL,
  lease_owner      text,
  lease_expires_at bigint,
  wake_pending     boolean NOT NULL DEFAULT false
) WITH (fillfactor = 70);
-- runs.list: newest first, optionally by status or workflow, keyset-paged on (created_at, run_id).
CREATE INDEX runs_by_created  ON ${s}.runs (created_at DESC, run_id DESC);
CREATE INDEX runs_by_status   ON ${s}.runs (status, created_at DESC, run_id DESC);
CREATE INDEX runs_by_workflow ON ${s}.runs (workflow_name, created_at DESC, run_id DESC);

CREATE TABLE ${s}.events (
  run_id     text COLLATE "C" NOT NULL,
  seq        integer NOT NULL,
  type       text NOT NULL,
  data       jsonb NOT NULL,
  payload    bytea,
  created_at bigint NOT NULL,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE ${s}.steps (
  run_id       text COLLATE "C" NOT NULL,
  step_id      text COLLATE "C" NOT NULL,
  step_name    text NOT NULL,
  status       text NOT NULL,
  attempt      integer NOT NULL,
  first_seq    integer NOT NULL,
  input_seq    integer,
  output_seq   integer,
  error_seq    integer,
  created_at   bigint NOT NULL,
  started_at   bigint NOT NULL,
  completed_at bigint,
  retry_at     bigint,
  updated_at   bigint NOT NULL,
  PRIMARY KEY (run_id, step_id)
) WITH (fillfactor = 80);
-- steps.list: a run's steps in the order they were first started.
CREATE INDEX steps_by_run ON ${s}.steps (run_id, first_seq);

CREATE TABLE ${s}.hooks (
  hook_id     text COLLATE "C" PRIMARY KEY,
  id          bigint GENERATED ALWAYS AS IDENTITY,
  run_id      text COLLATE "C" NOT NULL,
  token       text COLLATE "C" NOT NULL,
  kind        text NOT NULL,
  status      text NOT NULL,
  meta        jsonb,
  created_at  bigint NOT NULL,
  disposed_at bigint
);
-- An active hook holds its token exclusively; hooks.getByToken.
CREATE UNIQUE INDEX hooks_active_token ON ${s}.hooks (token) WHERE status = 'active';
-- hooks.list of a run (creation order), disposing a run's hooks when it ends.
CREATE INDEX hooks_by_run ON ${s}.hooks (run_id, id);
-- hooks.list of all runs, newest first.
CREATE INDEX hooks_by_id ON ${s}.hooks (id);

CREATE TABLE ${s}.waits (
  run_id       text COLLATE "C" NOT NULL,
  wait_id      text COLLATE "C" NOT NULL,
  id           bigint GENERATED ALWAYS AS IDENTITY,
  resume_at    bigint NOT NULL,
  status       text NOT NULL,
  created_at   bigint NOT NULL,
  completed_at bigint,
  PRIMARY KEY (run_id, wait_id)
);
-- waits.list: a run's waits in creation order, or all waits newest first.
CREATE INDEX waits_by_run ON ${s}.waits (run_id, id);
CREATE INDEX waits_by_id ON ${s}.waits (id);

CREATE TABLE ${s}.queue (
  message_id       text COLLATE "C" PRIMARY KEY,
  run_id           text COLLATE "C" NOT NULL,
  kind             text NOT NULL,
  dedupe_key       text,
  available_at     bigint NOT NULL,
  deliveries       integer NOT NULL DEFAULT 0,
  lease_owner      text,
  lease_expires_at bigint,
  created_at       bigint NOT NULL
);
-- claim (waiting messages, oldest first) and nextAvailableAt.
CREATE INDEX queue_waiting ON ${s}.queue (available_at, message_id) WHERE lease_owner IS NULL;
-- claim (claimed messages whose lease ran out) and nextAvailableAt: when a lease runs out.
CREATE INDEX queue_leased ON ${s}.queue ((greatest(available_at, lease_expires_at)))
  WHERE lease_owner IS NOT NULL;
-- A dedupe key blocks duplicates only while its message waits unclaimed.
CREATE UNIQUE INDEX queue_dedupe ON ${s}.queue (dedupe_key)
  WHERE dedupe_key IS NOT NULL AND lease_owner IS NULL;
-- queue.list
CREATE INDEX queue_by_run ON ${s}.queue (run_id);

CREATE TABLE ${s}.inbox (
  item_id    text COLLATE "C" PRIMARY KEY,
  id         bigint GENERATED ALWAYS AS IDENTITY,
  run_id     text COLLATE "C" NOT NULL,
  kind       text NOT NULL,
  hook_id    text,
  payload    bytea,
  created_at bigint NOT NULL
);
-- inbox.list: a run's items, oldest first.
CREATE INDEX inbox_by_run ON ${s}.inbox (run_id, id);

CREATE TABLE ${s}.streams (
  run_id     text COLLATE "C" NOT NULL,
  name       text NOT NULL,
  id         bigint GENERATED ALWAYS AS IDENTITY,
  length     integer NOT NULL,
  closed     boolean NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (run_id, name)
);

CREATE TABLE ${s}.stream_chunks (
  run_id     text COLLATE "C" NOT NULL,
  name       text NOT NULL,
  idx        integer NOT NULL,
  data       bytea NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (run_id, name, idx)
);
`;
