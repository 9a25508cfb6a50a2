/**
 * The local World's statements for claims limited to code versions (`QueueFilter.versions`): a
 * worker that replays only some versions of its workflows claims the messages of runs pinned to
 * them, or not pinned yet (`version` ''), through `queue_waiting_by_version` (migration 12), so a
 * backlog of another version's messages is never read. With a workflow list too, each (version,
 * workflow) pair is one index range. `@versions` always holds '' (added by `queue.ts`). Kept apart
 * from `statements.ts` (the hot paths) and spread into its set.
 */
import type { MessageRow } from "../sql/rows.ts";
import type { Stmt } from "./statements.ts";

/** Parameters of a claim limited to the versions in the JSON list `@versions`. */
export interface VersionClaimParams {
  owner: string;
  expiresAt: number;
  clock: string | null;
  until: number | null;
  now: number;
  dead: string;
  limit: number;
  versions: string;
}

/** The version-limited statements, prepared with `prep`; `columns` and `expired` are statements.ts's. */
export function prepareVersionClaimStatements(
  prep: <P extends unknown[], R = unknown>(source: string) => Stmt<P, R>,
  columns: string,
  expired: string,
) {
  const versions = "version IN (SELECT value FROM json_each(@versions))";
  const pairs = `(version, workflow_name) IN
      (SELECT v.value, w.value FROM json_each(@versions) v, json_each(@workflows) w)`;
  /** A claim whose waiting messages match `waiting` and whose leased ones match `leased`. */
  const claim = (waiting: string, leased: string) =>
    `UPDATE queue SET lease_owner = @owner, lease_expires_at = @expiresAt, lease_clock = @clock,
       lease_until = @until, deliveries = deliveries + 1
     WHERE message_id IN (
       SELECT message_id FROM (
         SELECT * FROM (
           SELECT message_id, available_at FROM queue INDEXED BY queue_waiting_by_version
           WHERE ${waiting} AND available_at <= @now AND lease_owner IS NULL
           ORDER BY available_at, message_id LIMIT @limit)
         UNION ALL
         SELECT message_id, available_at FROM queue INDEXED BY queue_leased_by_owner
         WHERE lease_owner IS NOT NULL AND ${leased}
           AND (${expired} OR lease_owner IN (SELECT value FROM json_each(@dead))))
       ORDER BY available_at, message_id
       LIMIT @limit)
     RETURNING ${columns}`;
  const nextLeased = (where: string) =>
    `SELECT min(CASE WHEN lease_owner IN (SELECT value FROM json_each(@dead)) THEN @now
                     ELSE stepwise_lease_wall(lease_expires_at, lease_clock, lease_until) END)
       FROM queue INDEXED BY queue_leased_by_owner WHERE lease_owner IS NOT NULL AND ${where}`;
  return {
    /** `claim` for the versions in `@versions`: one range of `queue_waiting_by_version` per version. */
    claimForVersions: prep<[VersionClaimParams], MessageRow>(claim(versions, versions)),
    /** `claim` for the versions in `@versions` and the workflows in `@workflows`: one range per pair. */
    claimForVersionsAndWorkflows: prep<[VersionClaimParams & { workflows: string }], MessageRow>(
      claim(pairs, `${versions} AND workflow_name IN (SELECT value FROM json_each(@workflows))`),
    ),
    /** `nextWaiting` for the versions in `@versions`. */
    nextWaitingForVersions: prep<[{ versions: string }], number | null>(
      `SELECT min((SELECT min(available_at) FROM queue INDEXED BY queue_waiting_by_version
                   WHERE lease_owner IS NULL AND version = v.value))
         FROM json_each(@versions) v`,
    ).pluck(),
    /** `nextWaiting` for the versions and workflows in `@versions`, `@workflows`: one probe per pair. */
    nextWaitingForVersionsAndWorkflows: prep<[{ versions: string; workflows: string }], number | null>(
      `SELECT min((SELECT min(available_at) FROM queue INDEXED BY queue_waiting_by_version
                   WHERE lease_owner IS NULL AND version = v.value AND workflow_name = w.value))
         FROM json_each(@versions) v, json_each(@workflows) w`,
    ).pluck(),
    /** `nextLeased` for the versions in `@versions`. */
    nextLeasedForVersions: prep<[{ now: number; dead: string; versions: string }], number | null>(
      nextLeased(versions),
    ).pluck(),
    /** `nextLeased` for the versions in `@versions` and the workflows in `@workflows`. */
    nextLeasedForVersionsAndWorkflows: prep<
      [{ now: number; dead: string; versions: string; workflows: string }],
      number | null
    >(nextLeased(`${versions} AND workflow_name IN (SELECT value FROM json_each(@workflows))`)).pluck(),
  };
}
