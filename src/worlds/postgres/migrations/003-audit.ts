/**
 * Migration 003: the audit trail — who read protected data (decrypted payloads), when and why.
 * Rows are only ever inserted. Run ids are an array (in the order given), searched through a GIN
 * index; pages are keyset-paged on (at, audit_id), newest first.
 */
export const name = "audit trail";

export const sql = (s: string): string => `
CREATE TABLE ${s}.audit (
  audit_id   text COLLATE "C" PRIMARY KEY,
  at         bigint NOT NULL,
  actor_user text NOT NULL,
  actor_host text NOT NULL,
  actor_pid  integer NOT NULL,
  action     text NOT NULL,
  resource   text NOT NULL,
  run_ids    text[] NOT NULL,
  reason     text
);
-- audit.list: newest first.
CREATE INDEX audit_by_time ON ${s}.audit (at DESC, audit_id DESC);
-- audit.list filtered by run: run_ids @> ARRAY[run id].
CREATE INDEX audit_by_run ON ${s}.audit USING gin (run_ids);
`;
