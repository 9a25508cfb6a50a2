/**
 * What every part of the postgres World shares: the pool and its statements, the clocks (the wall
 * clock for timestamps and due times; the database's for leases), the notifier and the NOTIFY
 * channel, a `query` that turns connection failures into errors naming the server, and the
 * closed check.
 */
import type pg from "pg";
import { ConflictError } from "../../errors/world.ts";
import type { Notifier } from "../../world/notify.ts";
import { connectionFailure, type Target } from "./connection.ts";
import { type Note, notePayload } from "./notifications.ts";
import type { Queries, Statement } from "./queries.ts";

export interface PgContext {
  readonly pool: pg.Pool;
  readonly q: Queries;
  /** The wall clock: timestamps, and when messages are due. */
  readonly now: () => number;
  /**
   * The lease clock to pass to a statement: null, so that it uses the database's clock, unless
   * the World runs on a test clock (then that clock's time).
   */
  leaseClock(): number | null;
  /** A lease expiry read at database clock `clockNow`, moved to this process's wall clock. */
  onWallClock(expiresAt: number, clockNow: number | string): number;
  readonly notifier: Notifier;
  /** The NOTIFY channel of the World's schema. */
  readonly channel: string;
  /** This World instance's id in its notifications. */
  readonly origin: string;
  readonly target: Target;
  /** Called first by every World method: throws once the World is closed. */
  enter(): void;
  /** Runs a statement on the pool; connection failures become errors that name the server. */
  query<R>(statement: Statement, values: readonly unknown[]): Promise<R[]>;
  /**
   * Runs `work` in one transaction on one connection of the pool: committed when `work`
   * resolves, rolled back when it throws (the error is rethrown). `query` is `work`'s way to run
   * statements in it, with the same error mapping as the pool's.
   */
  transaction<T>(work: (query: PgContext["query"]) => Promise<T>): Promise<T>;
  /** The payload of a notification carrying `notes` from this World. */
  notes(notes: readonly Note[]): string;
}

export interface ContextParts {
  pool: pg.Pool;
  q: Queries;
  now: () => number;
  /** True when `now` is a test clock, which then also runs the leases. */
  testClock: boolean;
  notifier: Notifier;
  channel: string;
  origin: string;
  target: Target;
  isClosed: () => boolean;
}

export function createContext(parts: ContextParts): PgContext {
  const { pool, target } = parts;

  const query = async <R>(statement: Statement, values: readonly unknown[]): Promise<R[]> => {
    try {
      const config: pg.QueryConfig = { text: statement.text, values: values as unknown[] };
      if (statement.name !== undefined) config.name = statement.name;
      const result = await pool.query(config);
      return result.rows as R[];
    } catch (error) {
      throw connectionFailure(error, target, "reach the Stepwise database");
    }
  };

  const transaction = async <T>(work: (query: PgContext["query"]) => Promise<T>): Promise<T> => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw connectionFailure(error, target, "reach the Stepwise database");
    }
    let broken = false;
    // A checked-out connection that breaks between statements emits "error" with nobody listening
    // (the pool listens only to idle ones): that would be an uncaught exception. The next statement
    // fails instead, and the connection is dropped.
    const onError = (): void => {
      broken = true;
    };
    client.on("error", onError);
    const inTransaction = async <R>(statement: Statement, values: readonly unknown[]): Promise<R[]> => {
      try {
        const config: pg.QueryConfig = { text: statement.text, values: values as unknown[] };
        if (statement.name !== undefined) config.name = statement.name;
        return (await client.query(config)).rows as R[];
      } catch (error) {
        throw connectionFailure(error, target, "reach the Stepwise database");
      }
    };
    try {
      await inTransaction({ text: "BEGIN" }, []);
      const result = await work(inTransaction);
      await inTransaction({ text: "COMMIT" }, []);
      return result;
    } catch (error) {
      // A connection that cannot even roll back is dropped rather than handed to the next caller.
      await client.query("ROLLBACK").catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  };

  return {
    pool,
    q: parts.q,
    now: parts.now,
    leaseClock: () => (parts.testClock ? parts.now() : null),
    onWallClock: (expiresAt, clockNow) => expiresAt - Number(clockNow) + parts.now(),
    notifier: parts.notifier,
    channel: parts.channel,
    origin: parts.origin,
    target,
    enter() {
      if (parts.isClosed()) throw new ConflictError("This World has been closed.");
    },
    query,
    transaction,
    notes: (notes) => notePayload(parts.origin, notes),
  };
}
