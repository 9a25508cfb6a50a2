/**
 * Migration 013: run versions (`npx stepwise upgrade`, `RunRecord.bundleHash`).
 *
 * - `runs.bundle_hash`: the version of the workflow code a run replays with, the latest bundle
 *   hash its log names (`run_created`, `run_started`, `run_upgraded`); NULL for runs older than
 *   pinning. Backfilled from the logs written before (only `run_created` and `run_started`
 *   named one then; the latest wins, as `pinnedHash` reads it).
 * - `append_one` (migration 011) learns the `run.version` effect (`run_started` naming a bundle,
 *   `run_upgraded`): it sets `bundle_hash` and raises `spec_version` to `minSpec` (never lowers
 *   it), in the same write as the rest of the run's row.
 */
export const name = "run versions";

export const sql = (s: string): string => `
SET LOCAL search_path TO ${s};

ALTER TABLE ${s}.runs ADD COLUMN bundle_hash text;
UPDATE ${s}.runs r SET bundle_hash = pinned.hash
FROM (SELECT DISTINCT ON (run_id) run_id, data->>'bundleHash' AS hash
      FROM ${s}.events
      WHERE type IN ('run_created', 'run_started') AND data ? 'bundleHash'
      ORDER BY run_id, seq DESC) AS pinned
WHERE pinned.run_id = r.run_id;

-- Migration 011's append, with the run.version effect.
CREATE OR REPLACE FUNCTION ${s}.append_one(req jsonb, blob bytea) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
  r          runs;
  v_run      text := req->>'runId';
  v_owner    text := req->>'owner';
  v_at       bigint := (req->>'at')::bigint;
  v_events   integer := jsonb_array_length(req->'events');
  fx         jsonb;
  su         record;
  v_holder   text;
  v_stay     boolean;
  v_released boolean;
  v_gone     bigint;
  v_token    text;
  v_restart  boolean := coalesce((req->>'restart')::boolean, false);
BEGIN
  SELECT * INTO r FROM runs WHERE run_id = v_run FOR UPDATE;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('error', 'run_not_found');
  END IF;
  -- checkAppend's order: finished, lease, sequence, then the batch's shape (checked by the caller).
  IF (r.status IN ('completed', 'failed', 'cancelled')) <> v_restart
     OR (v_owner IS NOT NULL AND r.lease_owner IS NOT NULL AND r.lease_owner <> v_owner)
     OR r.seq <> (req->>'expectedSeq')::integer
     OR (req->>'badShape')::boolean THEN
    RETURN jsonb_build_object('error', 'check', 'head', to_jsonb(r));
  END IF;

  IF v_events > 0 THEN
    INSERT INTO events (run_id, seq, type, data, payload, created_at)
    SELECT v_run, ev.seq, ev.type, ev.data,
           CASE WHEN ev.po IS NULL THEN NULL ELSE substring(blob FROM ev.po + 1 FOR ev.pl) END, ev.at
    FROM jsonb_to_recordset(req->'events')
         AS ev(seq integer, type text, data jsonb, at bigint, po integer, pl integer);
  END IF;

  -- Step effects, folded by the caller to one write per step (step-writes.ts). Updates go one by
  -- one through the primary key: a join could scan all the run's steps, and a step must cost the
  -- same however long the run's history is.
  IF req ? 'stepUpdates' THEN
    FOR su IN SELECT * FROM jsonb_to_recordset(req->'stepUpdates') AS u(id text, status text,
                attempt integer, out integer, err integer, started bigint, completed bigint,
                retry bigint, at bigint) LOOP
      UPDATE steps SET
        status       = coalesce(su.status, status),
        attempt      = coalesce(su.attempt, attempt),
        output_seq   = coalesce(su.out, output_seq),
        error_seq    = coalesce(su.err, error_seq),
        started_at   = coalesce(su.started, started_at),
        completed_at = coalesce(su.completed, completed_at),
        retry_at     = coalesce(su.retry, retry_at),
        updated_at   = su.at
      WHERE run_id = v_run AND step_id = su.id;
    END LOOP;
  END IF;
  IF req ? 'stepUpserts' THEN
    INSERT INTO steps (run_id, step_id, step_name, status, attempt, first_seq, input_seq, output_seq,
                       error_seq, created_at, started_at, completed_at, retry_at, updated_at)
    SELECT v_run, u.id, u.name, u.status, u.attempt, u.first, u.input, u.out, u.err, u.created,
           u.started, u.completed, u.retry, u.at
    FROM jsonb_to_recordset(req->'stepUpserts') AS u(id text, name text, status text, attempt integer,
           first integer, input integer, out integer, err integer, created bigint, started bigint,
           completed bigint, retry bigint, at bigint)
    ON CONFLICT (run_id, step_id) DO UPDATE SET
      status       = excluded.status,
      attempt      = excluded.attempt,
      output_seq   = coalesce(excluded.output_seq, steps.output_seq),
      error_seq    = coalesce(excluded.error_seq, steps.error_seq),
      started_at   = excluded.started_at,
      completed_at = coalesce(excluded.completed_at, steps.completed_at),
      retry_at     = coalesce(excluded.retry_at, steps.retry_at),
      updated_at   = excluded.updated_at;
  END IF;

  -- Hook and wait effects, in event order: their checks see the earlier ones.
  IF req ? 'effects' THEN
    FOR fx IN SELECT value FROM jsonb_array_elements(req->'effects') LOOP
      CASE fx->>'k'
      WHEN 'hook.create' THEN
        IF EXISTS (SELECT 1 FROM hooks WHERE hook_id = fx->>'hookId') THEN
          RAISE EXCEPTION USING ERRCODE = 'SWHID', MESSAGE = fx->>'hookId';
        END IF;
        SELECT run_id INTO v_holder FROM hooks WHERE token = fx->>'token' AND status = 'active';
        IF FOUND THEN
          RAISE EXCEPTION USING ERRCODE = 'SWTOK', MESSAGE = fx->>'token', DETAIL = v_holder;
        END IF;
        -- A concurrent transaction holding the same token makes this wait, then fail with 23505.
        INSERT INTO hooks (hook_id, run_id, token, kind, status, meta, created_at)
        VALUES (fx->>'hookId', v_run, fx->>'token', fx->>'kind', 'active', fx->'meta', (fx->>'at')::bigint);
      WHEN 'hook.dispose' THEN
        UPDATE hooks SET status = 'disposed', disposed_at = (fx->>'at')::bigint
        WHERE hook_id = fx->>'hookId' AND run_id = v_run AND status = 'active';
      WHEN 'hooks.disposeAll' THEN
        UPDATE hooks SET status = 'disposed', disposed_at = (fx->>'at')::bigint
        WHERE run_id = v_run AND status = 'active';
      WHEN 'wait.create' THEN
        INSERT INTO waits (run_id, wait_id, kind, event_type, resume_at, status, created_at)
        VALUES (v_run, fx->>'waitId', coalesce(fx->>'kind', 'sleep'), fx->>'eventType',
                (fx->>'resumeAt')::bigint, 'waiting', (fx->>'at')::bigint)
        ON CONFLICT (run_id, wait_id) DO NOTHING;
        IF NOT FOUND THEN
          RAISE EXCEPTION USING ERRCODE = 'SWWID', MESSAGE = fx->>'waitId';
        END IF;
      WHEN 'wait.complete' THEN
        UPDATE waits SET status = coalesce(fx->>'status', 'completed'), completed_at = (fx->>'at')::bigint
        WHERE run_id = v_run AND wait_id = fx->>'waitId';
      WHEN 'waits.cancelAll' THEN
        UPDATE waits SET status = 'cancelled', completed_at = (fx->>'at')::bigint
        WHERE run_id = v_run AND status = 'waiting';
      WHEN 'hook.rearm' THEN
        SELECT token INTO v_token FROM hooks WHERE hook_id = fx->>'hookId' AND run_id = v_run;
        IF FOUND THEN
          SELECT run_id INTO v_holder FROM hooks WHERE token = v_token AND status = 'active';
          IF FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'SWTOK', MESSAGE = v_token, DETAIL = v_holder;
          END IF;
          UPDATE hooks SET status = 'active', disposed_at = NULL
          WHERE hook_id = fx->>'hookId' AND run_id = v_run;
        END IF;
      WHEN 'wait.rearm' THEN
        UPDATE waits SET status = 'waiting', completed_at = NULL
        WHERE run_id = v_run AND wait_id = fx->>'waitId';
      WHEN 'run.version' THEN
        r.bundle_hash := fx->>'bundleHash';
        r.spec_version := greatest(r.spec_version, (fx->>'minSpec')::integer);
      END CASE;
    END LOOP;
  END IF;

  r.seq          := r.seq + v_events;
  r.payload_bytes := r.payload_bytes + coalesce((req->>'bytes')::bigint, 0);
  r.updated_at   := v_at;
  IF v_restart THEN
    r.started_at := NULL;
    r.completed_at := NULL;
  END IF;
  r.status       := coalesce(req->>'status', r.status);
  r.started_at   := coalesce((req->>'startedAt')::bigint, r.started_at);
  r.completed_at := coalesce((req->>'completedAt')::bigint, r.completed_at);

  IF req ? 'enqueue' THEN
    INSERT INTO queue (message_id, run_id, kind, dedupe_key, available_at, created_at)
    SELECT m.id, m.run, m.kind, m.key, coalesce(m.at, v_at), v_at
    FROM jsonb_to_recordset(req->'enqueue') AS m(id text, run text, kind text, key text, at bigint)
    WHERE m.run = v_run OR EXISTS (SELECT 1 FROM runs x WHERE x.run_id = m.run)
    ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND lease_owner IS NULL DO NOTHING;
  END IF;
  IF req ? 'consume' THEN
    -- Items taken give their bytes back to the run's budget (a recorded payload counts in its event).
    WITH gone AS (
      DELETE FROM inbox
      WHERE item_id = ANY (ARRAY(SELECT jsonb_array_elements_text(req->'consume'))) AND run_id = v_run
      RETURNING coalesce(octet_length(payload), 0) AS n)
    SELECT coalesce(sum(n), 0) INTO v_gone FROM gone;
    r.payload_bytes := r.payload_bytes - v_gone;
  END IF;
  IF v_owner IS NOT NULL AND req ? 'ack' THEN
    DELETE FROM queue
    WHERE message_id = ANY (ARRAY(SELECT jsonb_array_elements_text(req->'ack'))) AND lease_owner = v_owner;
  END IF;

  -- releaseAfterAppend (src/worlds/shared.ts): the lease stays once if someone asked for the run.
  IF (req->>'releaseLease')::boolean AND v_owner IS NOT NULL THEN
    IF r.lease_owner IS DISTINCT FROM v_owner THEN
      v_released := true;
    ELSE
      v_stay := r.wake_pending AND r.status NOT IN ('completed', 'failed', 'cancelled');
      r.wake_pending := false;
      v_released := NOT v_stay;
      IF NOT v_stay THEN
        r.lease_owner := NULL;
        r.lease_expires_at := NULL;
      END IF;
    END IF;
  END IF;

  UPDATE runs SET status = r.status, seq = r.seq, payload_bytes = r.payload_bytes, started_at = r.started_at,
    completed_at = r.completed_at, updated_at = r.updated_at, lease_owner = r.lease_owner,
    lease_expires_at = r.lease_expires_at, wake_pending = r.wake_pending, bundle_hash = r.bundle_hash,
    spec_version = r.spec_version
  WHERE run_id = v_run;
  RETURN jsonb_build_object('head', to_jsonb(r), 'released', v_released);
END
$fn$;
`;
