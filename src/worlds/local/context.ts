/**
 * What every part of the local World shares: the connection and its prepared statements, the
 * clock, the lease rules, the notifier, transaction helpers that also enforce `close()`, call order
 * and the guard (a World whose database was found damaged writes nothing more), and dead-owner
 * detection.
 */
import type Database from "better-sqlite3";
import { ConflictError } from "../../errors/world.ts";
import { isOwnerDeadOnThisHost } from "../../util/owner.ts";
import type { Notifier } from "../../world/notify.ts";
import type { Guard } from "./guard.ts";
import type { LeaseRules } from "./lease-clock.ts";
import type { Statements } from "./statements.ts";

export interface LocalContext {
  readonly db: Database.Database;
  readonly sql: Statements;
  /** The wall clock: timestamps, and when messages are due. */
  readonly now: () => number;
  /** How leases are taken and judged (on the monotonic clock where there is one). */
  readonly leases: LeaseRules;
  readonly notifier: Notifier;
  /**
   * Called at the start of every World method: throws once the World is closed, and commits pending
   * group-commit appends first, so that a call sees the effect of every call made before it (and
   * throws if committing them found the database damaged).
   */
  enter(): void;
  /** Runs `fn` in a write transaction (BEGIN IMMEDIATE: takes the write lock up front). */
  write<T>(fn: () => T): T;
  /** Runs `fn` in a read transaction: one consistent snapshot across its statements. */
  read<T>(fn: () => T): T;
  /** A lease owner that is a dead process on this host holds nothing. */
  isOwnerDead(owner: string): boolean;
}

export interface ContextParts {
  db: Database.Database;
  sql: Statements;
  now: () => number;
  leases: LeaseRules;
  notifier: Notifier;
  isClosed: () => boolean;
  flushPending: () => void;
  guard: Guard;
}

export function createContext(parts: ContextParts): LocalContext {
  const { db, sql, guard } = parts;
  const immediate = db.transaction((fn: () => unknown) => fn()).immediate;
  const deferred = db.transaction((fn: () => unknown) => fn()).deferred;

  const dead = new Set<string>();

  return {
    db,
    sql,
    now: parts.now,
    leases: parts.leases,
    notifier: parts.notifier,
    enter() {
      if (parts.isClosed()) throw new ConflictError("This World has been closed.");
      parts.flushPending();
      guard.check("this call");
    },
    write: <T>(fn: () => T): T => {
      try {
        return immediate(fn) as T;
      } catch (error) {
        guard.note(error, "a write");
        throw error;
      }
    },
    read: <T>(fn: () => T): T => {
      try {
        return deferred(fn) as T;
      } catch (error) {
        guard.note(error, "a read");
        throw error;
      }
    },
    isOwnerDead(owner) {
      if (dead.has(owner)) return true;
      if (!isOwnerDeadOnThisHost(owner)) return false;
      if (dead.size > 10_000) dead.clear();
      dead.add(owner);
      return true;
    },
  };
}
