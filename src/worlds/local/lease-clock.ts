/**
 * The local World's leases (run leases and queue message leases) on a clock that cannot jump.
 * Every process using one SQLite WAL file runs on the same kernel (WAL's shared memory needs it),
 * so on Linux they share CLOCK_MONOTONIC (`process.hrtime`): a lease's expiry is stored on that
 * clock (`lease_until`, milliseconds, shifted out of the process's time namespace so that
 * processes in different time namespaces agree), tagged with the boot it was taken in
 * (`lease_clock`). A wall-clock step (NTP, an operator, a VM resume) moves neither, so a lease that
 * its holder keeps renewing never expires under it. A lease tagged with another boot has expired:
 * its holder died in the reboot.
 *
 * `lease_expires_at` keeps the expiry on the wall clock of the process that wrote it: it is what
 * older Stepwise versions read, and where the monotonic clock cannot be used (no boot id: not
 * Linux, or a time namespace whose offset cannot be read; or a test clock) it is the lease, as
 * before. The tag also carries that wall value (`<clock id>:<wall expiry>`): a lease rewritten by
 * an older process, which only knows `lease_expires_at`, no longer matches its tag and is judged
 * by the wall clock, never by a stale monotonic expiry.
 *
 * Records show `lease.expiresAt` on this process's wall clock, converted from the monotonic expiry
 * (`wallExpiry`), because the worker and `inspect` read it. The rules are registered as SQL
 * functions (`stepwise_lease_expired`, `stepwise_lease_wall`) so claims can apply them in SQL.
 */
import { createHash } from "node:crypto";
import type Database from "better-sqlite3";
import { bootId, monotonicOffsetNs } from "../../util/host-identity.ts";

/** A new lease's columns. */
export interface LeaseColumns {
  /** Wall-clock expiry (epoch ms). */
  expiresAt: number;
  /** `<clock id>:<expiresAt>`, or null for a wall-clock lease. */
  clock: string | null;
  /** Expiry on the monotonic clock (ms), or null for a wall-clock lease. */
  until: number | null;
}

export interface LeaseRules {
  /** The columns of a lease of `ms` from now. */
  take(ms: number): LeaseColumns;
  /** True when the lease stored in these columns has run out. */
  expired(expiresAt: number, clock: string | null, until: number | null): boolean;
  /** When the lease stored in these columns runs out, on this process's wall clock (epoch ms). */
  wallExpiry(expiresAt: number, clock: string | null, until: number | null): number;
}

/** The machine's monotonic clock in ms and the name of this boot; undefined where it cannot be used. */
export interface MonotonicClock {
  id: string;
  now(): number;
}

/** CLOCK_MONOTONIC as the machine sees it (outside any time namespace), named by the boot id. */
export function machineMonotonicClock(): MonotonicClock | undefined {
  const boot = bootId();
  const offset = monotonicOffsetNs();
  if (boot === undefined || offset === undefined) return undefined;
  const id = createHash("sha256").update(`stepwise/lease-clock/v1\0${boot}`).digest("hex").slice(0, 16);
  return { id, now: () => Number((process.hrtime.bigint() - offset) / 1_000_000n) };
}

/**
 * The lease rules for a process whose wall clock is `wallNow`. Without a monotonic clock (a
 * platform without a boot id, or a test clock) leases are on the wall clock, as they always were.
 */
export function createLeaseRules(wallNow: () => number, monotonic: MonotonicClock | undefined): LeaseRules {
  /** Which clock the stored lease is on: ours (monotonic), another boot's, or the wall clock. */
  const clockOf = (expiresAt: number, clock: string | null, until: number | null) => {
    if (monotonic === undefined || clock === null || until === null) return "wall";
    const split = clock.lastIndexOf(":");
    if (clock.slice(split + 1) !== String(expiresAt)) return "wall"; // rewritten by an older process
    return clock.slice(0, split) === monotonic.id ? "ours" : "other-boot";
  };
  return {
    take(ms) {
      const expiresAt = wallNow() + ms;
      if (monotonic === undefined) return { expiresAt, clock: null, until: null };
      return { expiresAt, clock: `${monotonic.id}:${expiresAt}`, until: monotonic.now() + ms };
    },
    expired(expiresAt, clock, until) {
      switch (clockOf(expiresAt, clock, until)) {
        case "ours":
          return (until as number) <= (monotonic as MonotonicClock).now();
        case "other-boot":
          return true;
        default:
          return expiresAt <= wallNow();
      }
    },
    wallExpiry(expiresAt, clock, until) {
      switch (clockOf(expiresAt, clock, until)) {
        case "ours":
          return wallNow() + ((until as number) - (monotonic as MonotonicClock).now());
        case "other-boot":
          return Math.min(expiresAt, wallNow());
        default:
          return expiresAt;
      }
    },
  };
}

/**
 * Registers the rules as SQL functions on this connection (before any statement using them is
 * prepared): `stepwise_lease_expired(lease_expires_at, lease_clock, lease_until)` (1 or 0) and
 * `stepwise_lease_wall(...)` (the wall-clock expiry; NULL when there is no lease).
 */
export function registerLeaseFunctions(db: Database.Database, rules: LeaseRules): void {
  const options = { deterministic: false, directOnly: true } as const;
  db.function(
    "stepwise_lease_expired",
    options,
    (expiresAt: unknown, clock: unknown, until: unknown): number =>
      typeof expiresAt !== "number" ||
      rules.expired(
        expiresAt,
        typeof clock === "string" ? clock : null,
        typeof until === "number" ? until : null,
      )
        ? 1
        : 0,
  );
  db.function("stepwise_lease_wall", options, (expiresAt: unknown, clock: unknown, until: unknown) =>
    typeof expiresAt !== "number"
      ? null
      : rules.wallExpiry(
          expiresAt,
          typeof clock === "string" ? clock : null,
          typeof until === "number" ? until : null,
        ),
  );
}
