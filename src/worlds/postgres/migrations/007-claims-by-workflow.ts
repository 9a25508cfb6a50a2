/**
 * Migration 007: claims filtered by workflow (`QueueFilter.workflows`). Each queue message carries
 * its run's workflow, and messages are indexed by workflow (waiting ones by availability, claimed
 * ones by lease expiry, as migration 006 indexes them), so a worker's claim reads short index ranges of the workflows it has: a
 * backlog of due messages for workflows nobody here runs (an absent application) is never
 * scanned, never claimed and never handed back.
 *
 * The statements in `queries.ts` that insert messages fill `workflow_name` themselves. The append
 * functions of migrations 002/004 insert without it; a BEFORE INSERT trigger fills it from `runs`
 * for any insert that leaves it NULL (the trigger's WHEN clause costs nothing when it is given). A
 * message whose run does not exist fails the NOT NULL constraint, loudly.
 */
export const name = "claims filtered by workflow";

export const sql = (s: string): string => `
ALTER TABLE ${s}.queue ADD COLUMN workflow_name text;
UPDATE ${s}.queue q SET workflow_name = r.workflow_name FROM ${s}.runs r WHERE r.run_id = q.run_id;
UPDATE ${s}.queue SET workflow_name = '' WHERE workflow_name IS NULL; -- no such run: nobody's
ALTER TABLE ${s}.queue ALTER COLUMN workflow_name SET NOT NULL;

-- claim and nextAvailableAt with workflows, per workflow: waiting messages oldest first, and
-- claimed ones by when their lease runs out (queue_waiting and queue_lease_expiry, by workflow).
CREATE INDEX queue_waiting_by_workflow ON ${s}.queue (workflow_name, available_at, message_id)
  WHERE lease_owner IS NULL;
CREATE INDEX queue_leased_by_workflow ON ${s}.queue (workflow_name, lease_expires_at)
  WHERE lease_owner IS NOT NULL;

-- Fills workflow_name for inserts that do not give it (the append functions).
CREATE FUNCTION ${s}.queue_fill_workflow() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  SELECT r.workflow_name INTO NEW.workflow_name FROM ${s}.runs r WHERE r.run_id = NEW.run_id;
  RETURN NEW;
END
$fn$;
CREATE TRIGGER queue_fill_workflow BEFORE INSERT ON ${s}.queue
  FOR EACH ROW WHEN (NEW.workflow_name IS NULL) EXECUTE FUNCTION ${s}.queue_fill_workflow();
`;
