/**
 * Migration 004: an append notifies other processes only when they have something to act on —
 * the run's status changed (run watchers, stream readers waiting for the end) or it enqueued
 * messages (workers). A step's checkpoint, which does neither, sends no NOTIFY: every process
 * LISTENing on the schema (each worker and client) would otherwise wake, read and discard one
 * notification per step, a cost that grew with the number of processes. The writer's own
 * process still hears every append in-process. Only `append_batch` changes; see migration 002.
 */
export const name = "notify only on status changes and enqueues";

export const sql = (s: string): string => `
SET LOCAL search_path TO ${s};

CREATE OR REPLACE FUNCTION ${s}.append_batch(requests jsonb, blob bytea, channel text, origin text)
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
    -- Only what another process acts on: a run whose status changed, and new queue messages.
    IF NOT outcome ? 'error' AND (req ? 'status' OR req ? 'enqueue') THEN
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
`;
