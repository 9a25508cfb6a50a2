/**
 * The local World's error boundary. `guardWorld` wraps every World method so that what SQLite
 * throws leaves as a Stepwise error (`sqlite-errors.ts`), and the `Guard` stops the World for good
 * once its database is found damaged: from then on every call fails with a `WorldCorruptError`
 * before touching the file, so nothing more is written to it. Damage is noted synchronously where
 * SQL runs (the transaction helpers and the group commit call `note`), so no write that was already
 * queued can slip in between finding the damage and refusing the next call.
 */
import { WorldCorruptError } from "../../errors/world.ts";
import type { World } from "../../world/types.ts";
import { fromSqliteError, isCorruption } from "./sqlite-errors.ts";

export interface Guard {
  /** The error this World stopped on, once its database was found damaged. */
  readonly stopped: WorldCorruptError | undefined;
  /** Throws (a `WorldCorruptError` naming `operation`) if the World has stopped. */
  check(operation: string): void;
  /** Looks at an error SQLite threw during `operation`: damage stops the World. */
  note(error: unknown, operation: string): void;
  /** Stops the World on damage found elsewhere (the background integrity check). */
  stop(error: WorldCorruptError): void;
  /** The Stepwise error for `error` thrown during `operation` (see `fromSqliteError`). */
  map(error: unknown, operation: string): unknown;
}

/** The guard of the World whose database is `file` (the busy timeout is for messages). */
export function createGuard(file: string, busyTimeoutMs: number): Guard {
  let stopped: WorldCorruptError | undefined;
  const map = (error: unknown, operation: string): unknown =>
    fromSqliteError(error, { file, operation, busyTimeoutMs });
  return {
    get stopped() {
      return stopped;
    },
    check(operation) {
      if (stopped === undefined) return;
      throw new WorldCorruptError(
        `${operation} was refused: this World stopped using its database after finding it damaged. ${stopped.message}`,
        { cause: stopped },
      );
    },
    note(error, operation) {
      if (stopped === undefined && isCorruption(error)) stopped = map(error, operation) as WorldCorruptError;
    },
    stop(error) {
      stopped ??= error;
    },
    map,
  };
}

type AnyFunction = (...args: unknown[]) => unknown;

/**
 * The World with every method of every resource (and `close`) behind the guard. Methods keep their
 * synchronous part (a group-commit append is still queued in the caller's tick); only failures
 * change. `close` always runs, so a stopped World can still be closed.
 */
export function guardWorld(guard: Guard, world: World): World {
  const wrap = (fn: AnyFunction, operation: string, checked: boolean): AnyFunction =>
    function guarded(this: unknown, ...args: unknown[]): unknown {
      const mapped = (error: unknown): unknown => {
        guard.note(error, operation);
        return guard.map(error, operation);
      };
      try {
        if (checked) guard.check(operation);
        return (fn.apply(this, args) as Promise<unknown>).then(undefined, (error: unknown) => {
          throw mapped(error);
        });
      } catch (error) {
        return Promise.reject(mapped(error));
      }
    };

  const guarded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(world)) {
    if (key === "close" && typeof value === "function") {
      guarded[key] = wrap(value as AnyFunction, "close", false);
    } else if (typeof value === "object" && value !== null) {
      const resource: Record<string, unknown> = {};
      for (const [name, method] of Object.entries(value)) {
        resource[name] =
          typeof method === "function" ? wrap(method as AnyFunction, `${key}.${name}`, true) : method;
      }
      guarded[key] = resource;
    } else {
      guarded[key] = value; // name, subscribe: no SQL that can fail
    }
  }
  return guarded as unknown as World;
}
