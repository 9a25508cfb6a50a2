/**
 * The local World's statements for claims limited to some runs (`QueueFilter.runIds`): a process
 * that drives only the runs it started (`npx stepwise start --wait`) claims their messages through
 * `queue_by_run` and never touches another run's. Optional workflow and version lists narrow them further.
 * Kept apart from `statements.ts` (the hot paths) and spread into its set.
 */
import type { MessageRow } from "../sql/rows.ts";
import type { Stmt } from "./statements.ts";

/** Parameters of a claim limited to the runs in the JSON list `@runs`. */
export interface RunClaimParams {
  owner: string;
  expiresAt: number;
  clock: string | null;
  until: number | null;
  now: number;
  dead: string;
  limit: number;
  runs: string;
  /** A JSON list of workflows, or null for any. */
  workflows: string | null;
  /** A JSON list of versions ('' among them: runs not pinned yet), or null for any. */
  versions: string | null;
}

/** The run-limited statements, prepared with `prep`; `columns` and `expired` are statements.ts's. */
export function prepareRunClaimStatements(
  prep: <P extends unknown[], R = unknown>(source: string) => Stmt<P, R>,
  columns: string,
  expired: string,
) {
  const mine = `run_id IN (SELECT value FROM json_each(@runs))
    AND (@workflows IS NULL OR workflow_name IN (SELECT value FROM json_each(@workflows)))
    AND (@versions IS NULL OR version IN (SELECT value FROM json_each(@versions)))`;
  return {
    /** `claim` for the runs in `@runs`: their due waiting messages and expired claims, oldest first. */
    claimForRuns: prep<[RunClaimParams], MessageRow>(
      `UPDATE queue SET lease_owner = @owner, lease_expires_at = @expiresAt, lease_clock = @clock,
         lease_until = @until, deliveries = deliveries + 1
       WHERE message_id IN (
         SELECT message_id FROM queue INDEXED BY queue_by_run
         WHERE ${mine}
           AND ((lease_owner IS NULL AND available_at <= @now)
             OR (lease_owner IS NOT NULL AND (${expired} OR lease_owner IN (SELECT value FROM json_each(@dead)))))
         ORDER BY available_at, message_id
         LIMIT @limit)
       RETURNING ${columns}`,
    ),
    /** `nextWaiting` for the runs in `@runs`. */
    nextWaitingForRuns: prep<
      [{ runs: string; workflows: string | null; versions: string | null }],
      number | null
    >(
      `SELECT min(available_at) FROM queue INDEXED BY queue_by_run WHERE lease_owner IS NULL AND ${mine}`,
    ).pluck(),
    /** `nextLeased` for the runs in `@runs`. */
    nextLeasedForRuns: prep<
      [{ now: number; dead: string; runs: string; workflows: string | null; versions: string | null }],
      number | null
    >(
      `SELECT min(CASE WHEN lease_owner IN (SELECT value FROM json_each(@dead)) THEN @now
                       ELSE stepwise_lease_wall(lease_expires_at, lease_clock, lease_until) END)
         FROM queue INDEXED BY queue_by_run WHERE lease_owner IS NOT NULL AND ${mine}`,
    ).pluck(),
  };
}
