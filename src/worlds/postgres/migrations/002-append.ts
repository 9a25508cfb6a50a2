/**
 * Migration 002: the server-side functions that make an append (and a group of appends) ONE round
 * trip. The TypeScript side (`append-plan.ts`) does everything that needs no database state — it
 * numbers the events, runs the shared `projectEvent` (folding step effects to one write per step),
 * and checks the request's shape — and sends the result as JSON, with all payload bytes in one
 * `bytea` (`po`/`pl` = offset and length into it).
 * These functions lock the run row, run the state checks of `checkAppend`, and apply the plan.
 *
 * `append_one` writes nothing unless the checks pass, so a failing append leaves no trace without a
 * savepoint. Only hook and wait ids and hook tokens can fail after writing has begun; those appends
 * (`guard`) run under a savepoint (a PL/pgSQL exception block) in `append_batch`, so only they pay
 * for a subtransaction (and a batch stays under the 64 cached subtransactions past which Postgres
 * snapshots slow down). An unexpected error fails the whole batch; the caller then retries its
 * appends one by one.
 */
export const name = "append and stream functions";

export const sql = (s: string): string => `
SET LOCAL search_path TO ${s};

-- One append. Returns {"head": <runs row after it>, "released": bool|null} when it wrote, and
-- {"error": "run_not_found"} or {"error": "check", "head": <runs row>} when it wrote nothing (the
-- caller runs checkAppend on head for the exact error). Raises SWHID, SWTOK (DETAIL: the holding
-- run) or SWWID for a hook id, hook token or wait id already in use. Only append_batch calls it,
-- and it runs on append_batch's search_path (a SET clause here would cost every append).
CREATE FUNCTION ${s}.append_one(req jsonb, blob bytea) RETURNS jsonb
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
BEGIN
  SELECT * INTO r FROM runs WHERE run_id = v_run FOR UPDATE;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('error', 'run_not_found');
  END IF;
  -- checkAppend's order: finished, lease, sequence, then the batch's shape (checked by the caller).
  IF r.status IN ('completed', 'failed', 'cancelled')
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
        INSERT INTO waits (run_id, wait_id, resume_at, status, created_at)
        VALUES (v_run, fx->>'waitId', (fx->>'resumeAt')::bigint, 'waiting', (fx->>'at')::bigint)
        ON CONFLICT (run_id, wait_id) DO NOTHING;
        IF NOT FOUND THEN
          RAISE EXCEPTION USING ERRCODE = 'SWWID', MESSAGE = fx->>'waitId';
        END IF;
      WHEN 'wait.complete' THEN
        UPDATE waits SET status = 'completed', completed_at = (fx->>'at')::bigint
        WHERE run_id = v_run AND wait_id = fx->>'waitId';
      END CASE;
    END LOOP;
  END IF;

  r.seq          := r.seq + v_events;
  r.updated_at   := v_at;
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
    DELETE FROM inbox
    WHERE item_id = ANY (ARRAY(SELECT jsonb_array_elements_text(req->'consume'))) AND run_id = v_run;
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

  UPDATE runs SET status = r.status, seq = r.seq, started_at = r.started_at,
    completed_at = r.completed_at, updated_at = r.updated_at, lease_owner = r.lease_owner,
    lease_expires_at = r.lease_expires_at, wake_pending = r.wake_pending
  WHERE run_id = v_run;
  RETURN jsonb_build_object('head', to_jsonb(r), 'released', v_released);
END
$fn$;

-- A group of appends in one transaction: one outcome row per request, in order. Requests marked
-- "guard" run under a savepoint, so their id and token conflicts roll back only themselves. One
-- NOTIFY for the whole group: {"o": origin, "n": [["q"], ["r", runId, status], ...]}, or [["*"]]
-- when that would not fit in a notification.
CREATE FUNCTION ${s}.append_batch(requests jsonb, blob bytea, channel text, origin text)
RETURNS SETOF jsonb
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
  req          jsonb;
  outcome      jsonb;
  notes        text[] := '{}';
  queued       boolean := false;
  v_state      text;
  v_message    text;
  v_detail     text;
  v_constraint text;
  v_token      text;
  v_holder     text;
  v_payload    text;
BEGIN
  -- Lock order, so concurrent writers never deadlock: the messages the batch acknowledges (by
  -- message id, as queue.ack and queue.extend lock them), then the runs (by run id: the caller
  -- sorted the requests, and runs.renew locks in the same order).
  PERFORM 1 FROM queue
  WHERE message_id = ANY (ARRAY(
    SELECT jsonb_array_elements_text(x->'ack') FROM jsonb_array_elements(requests) x WHERE x ? 'ack'))
  ORDER BY message_id FOR UPDATE;
  FOR req IN SELECT value FROM jsonb_array_elements(requests) LOOP
    IF (req->>'guard')::boolean THEN
      BEGIN
        outcome := append_one(req, blob);
      EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
          v_detail = PG_EXCEPTION_DETAIL, v_constraint = CONSTRAINT_NAME;
        IF v_state = 'SWTOK' THEN
          outcome := jsonb_build_object('error', 'hook_token', 'token', v_message, 'holder', v_detail);
        ELSIF v_state = 'SWHID' THEN
          outcome := jsonb_build_object('error', 'hook_id', 'hookId', v_message);
        ELSIF v_state = 'SWWID' THEN
          outcome := jsonb_build_object('error', 'wait_id', 'waitId', v_message);
        ELSIF v_state = '23505' AND v_constraint = 'hooks_active_token' THEN
          -- Lost a race for a token to a transaction that has committed since: name its holder.
          SELECT h.token, h.run_id INTO v_token, v_holder FROM hooks h
          WHERE h.status = 'active' AND h.token IN (
            SELECT x->'data'->>'token' FROM jsonb_array_elements(req->'events') x
            WHERE x->>'type' = 'hook_created')
          LIMIT 1;
          outcome := jsonb_build_object('error', 'hook_token', 'token', v_token, 'holder', v_holder);
        ELSE
          RAISE;
        END IF;
      END;
    ELSE
      outcome := append_one(req, blob);
    END IF;
    RETURN NEXT outcome;
    IF NOT outcome ? 'error' THEN
      notes := array_append(notes, jsonb_build_array('r', req->>'runId', outcome->'head'->>'status')::text);
      queued := queued OR req ? 'enqueue';
    END IF;
  END LOOP;
  IF cardinality(notes) > 0 THEN
    IF queued THEN
      notes := array_prepend('["q"]', notes);
    END IF;
    v_payload := '{"o":' || to_jsonb(origin)::text || ',"n":[' || array_to_string(notes, ',') || ']}';
    IF octet_length(v_payload) > 7900 THEN
      v_payload := '{"o":' || to_jsonb(origin)::text || ',"n":[["*"]]}';
    END IF;
    PERFORM pg_notify(channel, v_payload);
  END IF;
END
$fn$;

-- Appends chunks (all in one bytea, cut by lengths) to a run's stream, creating it on first write.
-- found = false: no such run; refused = true: the stream is closed (nothing written).
CREATE FUNCTION ${s}.stream_write(p_run text, p_name text, blob bytea, lengths integer[],
  p_close boolean, p_at bigint, channel text, payload text)
RETURNS TABLE (o_found boolean, o_length integer, o_closed boolean, o_refused boolean)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
  st    streams;
  v_new integer := coalesce(array_length(lengths, 1), 0);
BEGIN
  PERFORM 1 FROM runs WHERE run_id = p_run;
  IF NOT FOUND THEN
    RETURN QUERY SELECT false, 0, false, false;
    RETURN;
  END IF;
  INSERT INTO streams (run_id, name, length, closed, created_at)
  VALUES (p_run, p_name, 0, false, p_at) ON CONFLICT (run_id, name) DO NOTHING;
  SELECT * INTO st FROM streams WHERE run_id = p_run AND name = p_name FOR UPDATE;
  IF st.closed THEN
    RETURN QUERY SELECT true, st.length, true, true;
    RETURN;
  END IF;
  INSERT INTO stream_chunks (run_id, name, idx, data, created_at)
  SELECT p_run, p_name, st.length + c.n - 1, substring(blob FROM c.off + 1 FOR c.len), p_at
  FROM (SELECT u.n::integer AS n, u.len, (sum(u.len) OVER (ORDER BY u.n) - u.len)::integer AS off
        FROM unnest(lengths) WITH ORDINALITY AS u(len, n)) c;
  UPDATE streams SET length = st.length + v_new, closed = p_close
  WHERE run_id = p_run AND name = p_name;
  PERFORM pg_notify(channel, payload);
  RETURN QUERY SELECT true, st.length + v_new, p_close, false;
END
$fn$;
`;
