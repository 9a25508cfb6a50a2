/**
 * Migration 006: claimed messages come back when their lease runs out, whatever their
 * `available_at` (they were due when first claimed). Lease expiry is on the database's clock and
 * `available_at` on the wall clock of the process that wrote it, so the two are no longer combined
 * (`greatest(available_at, lease_expires_at)`): claims and `nextAvailableAt` read leased messages
 * by `lease_expires_at` alone, through this index, which replaces the combined one.
 */
export const name = "index claimed messages by lease expiry";

export const sql = (s: string): string => `
CREATE INDEX queue_lease_expiry ON ${s}.queue (lease_expires_at) WHERE lease_owner IS NOT NULL;
DROP INDEX ${s}.queue_leased;
`;
