/**
 * Migration 014: claims filtered by code version (`QueueFilter.versions`). Each queue message
 * carries the version its run is pinned to (`runs.bundle_hash`, '' while the run is not pinned),
 * and messages are indexed by version and workflow (waiting ones by availability, claimed ones by
 * lease expiry, as migration 007 indexes them by workflow), so a worker's claim reads short index
 * ranges of the versions it can replay: a backlog of another version's messages is never scanned.
 *
 * The statements in `queries.ts` that create runs and their start messages in one statement give
 * `version` themselves; any other insert that leaves it NULL (the append functions, enqueue,
 * import) has it filled from `runs` by a BEFORE INSERT trigger. When a run's pin changes
 * (`run_started` naming a bundle, `run_upgraded`: `append_one` sets `bundle_hash`), an AFTER
 * UPDATE trigger moves the run's messages along, in the same transaction — including those the
 * same append queued before it wrote the run's row.
 */
export const name = "claims filtered by version";

export const sql = (s: string): string => `
ALTER TABLE ${s}.queue ADD COLUMN version text;
UPDATE ${s}.queue q SET version = coalesce(r.bundle_hash, '') FROM ${s}.runs r WHERE r.run_id = q.run_id;
UPDATE ${s}.queue SET version = '' WHERE version IS NULL; -- no such run: nobody's
ALTER TABLE ${s}.queue ALTER COLUMN version SET NOT NULL;

CREATE INDEX queue_waiting_by_version ON ${s}.queue (version, workflow_name, available_at, message_id)
  WHERE lease_owner IS NULL;
CREATE INDEX queue_leased_by_version ON ${s}.queue (version, workflow_name, lease_expires_at)
  WHERE lease_owner IS NOT NULL;

-- Fills version for inserts that do not give it.
CREATE FUNCTION ${s}.queue_fill_version() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.version := coalesce((SELECT r.bundle_hash FROM ${s}.runs r WHERE r.run_id = NEW.run_id), '');
  RETURN NEW;
END
$fn$;
CREATE TRIGGER queue_fill_version BEFORE INSERT ON ${s}.queue
  FOR EACH ROW WHEN (NEW.version IS NULL) EXECUTE FUNCTION ${s}.queue_fill_version();

-- A run's messages follow its pin.
CREATE FUNCTION ${s}.queue_follow_version() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  UPDATE ${s}.queue SET version = coalesce(NEW.bundle_hash, '') WHERE run_id = NEW.run_id;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER queue_follow_version AFTER UPDATE OF bundle_hash ON ${s}.runs
  FOR EACH ROW WHEN (OLD.bundle_hash IS DISTINCT FROM NEW.bundle_hash)
  EXECUTE FUNCTION ${s}.queue_follow_version();
`;
