/**
 * The postgres World's statements for claims limited to code versions (`QueueFilter.versions`,
 * migration 014): per version — or per (version, workflow) pair when a workflow list is given too —
 * one range of `queue_waiting_by_version` and one of `queue_leased_by_version` (LATERAL), so a
 * backlog of another version's messages is never read. The version list always holds '' (runs
 * not pinned yet; added by `queue.ts`). Parameters as `claim`'s in `queries.ts`, then $6 the
 * versions and $7 the workflows (JSON arrays); kept apart from `queries.ts` and spread into it.
 */
import type { Statement } from "./queries.ts";

/** The version-limited statements; `named` and `clock` are `queries.ts`'s. */
export function createVersionQueries(
  s: string,
  named: (name: string, text: string) => Statement,
  clock: (n: number) => string,
) {
  const versions = `v AS (SELECT DISTINCT value AS version FROM jsonb_array_elements_text($6::jsonb))`;
  const pairs = `${versions},
       w AS (SELECT DISTINCT value AS name FROM jsonb_array_elements_text($7::jsonb)),
       k AS (SELECT v.version, w.name FROM v CROSS JOIN w)`;
  /** A claim over the keys `keys` (a CTE named k or v), matched by `match`. */
  const claim = (keys: string, from: string, match: string) =>
    `WITH c AS (SELECT ${clock(5)} AS now),
       ${keys},
       waiting AS (
         SELECT m.message_id, m.available_at FROM ${from} CROSS JOIN LATERAL (
           SELECT message_id, available_at FROM ${s}.queue
           WHERE ${match} AND lease_owner IS NULL AND available_at <= $1::bigint
           ORDER BY available_at, message_id LIMIT $2 FOR UPDATE SKIP LOCKED) m),
       expired AS (
         SELECT m.message_id, m.available_at FROM ${from} CROSS JOIN LATERAL (
           SELECT message_id, available_at FROM ${s}.queue
           WHERE ${match} AND lease_owner IS NOT NULL AND lease_expires_at <= (SELECT now FROM c)
           ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) m),
       picked AS (
         SELECT message_id FROM (SELECT * FROM waiting UNION ALL SELECT * FROM expired) m
         ORDER BY available_at, message_id LIMIT $2)
       UPDATE ${s}.queue q SET lease_owner = $3, lease_expires_at = (SELECT now FROM c) + $4::bigint,
         deliveries = q.deliveries + 1
       FROM picked WHERE q.message_id = picked.message_id
       RETURNING q.message_id, q.run_id, q.kind, q.dedupe_key, q.available_at, q.deliveries,
                 q.lease_owner, q.lease_expires_at, q.created_at, (SELECT now FROM c) AS clock_now`;
  /** `nextAvailableAt` over the keys, with $1 now, $2 lease clock, then $3 versions, $4 workflows. */
  const next = (keys: string, from: string, match: string) =>
    `WITH ${keys.replaceAll("$6", "$3").replaceAll("$7", "$4")}
       SELECT least(
         (SELECT min((SELECT min(available_at) FROM ${s}.queue
                      WHERE lease_owner IS NULL AND ${match})) FROM ${from}),
         (SELECT min((SELECT min(lease_expires_at) FROM ${s}.queue
                      WHERE lease_owner IS NOT NULL AND ${match})) FROM ${from})
           - ${clock(2)} + $1::bigint) AS next`;
  const byVersion = "version = v.version";
  const byPair = "version = k.version AND workflow_name = k.name";
  return {
    /** `claim` for the versions in $6. */
    claimForVersions: named("claim_for_versions", claim(versions, "v", byVersion)),
    /** `claim` for the versions in $6 and the workflows in $7: one range per pair. */
    claimForVersionsAndWorkflows: named("claim_for_versions_workflows", claim(pairs, "k", byPair)),
    /** `nextAvailableAt` ($1 now, $2 lease clock) for the versions in $3. */
    nextAvailableAtForVersions: named("next_available_at_for_versions", next(versions, "v", byVersion)),
    /** `nextAvailableAt` ($1 now, $2 lease clock) for the versions in $3 and workflows in $4. */
    nextAvailableAtForVersionsAndWorkflows: named(
      "next_available_at_for_versions_workflows",
      next(pairs, "k", byPair),
    ),
  };
}
