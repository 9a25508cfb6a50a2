/**
 * Where the postgres World connects, and what to say when it cannot. The connection string comes
 * from the option or STEPWISE_POSTGRES_URL (missing or malformed: `ConfigError` saying what to
 * set). Failures are turned into errors that name the server (host, port, database) and the reason
 * in words: configuration mistakes (unknown host, wrong password, missing database) become
 * `ConfigError`; conditions that pass (refused or dropped connections, a restarting server)
 * become `WorldUnavailableError`, and the pool reconnects on the next call.
 */
import type pg from "pg";
import { StepwiseError } from "../../errors/base.ts";
import { ConfigError } from "../../errors/runtime.ts";
import { WorldUnavailableError } from "../../errors/world.ts";

/** What the error messages say about the server. */
export interface Target {
  host: string;
  port: number;
  database: string;
  user: string;
}

export function describeTarget(target: Target): string {
  return `PostgreSQL at ${target.host}:${target.port} (database "${target.database}", user "${target.user}")`;
}

/** The connection string from the option or STEPWISE_POSTGRES_URL; `ConfigError` when neither is set. */
export function resolveConnectionString(option: string | undefined, env = process.env): string {
  const value = option ?? env.STEPWISE_POSTGRES_URL;
  if (value === undefined || value.trim() === "") {
    throw new ConfigError(
      "The postgres World needs a database: set STEPWISE_POSTGRES_URL to a connection URL such as postgres://user:password@localhost:5432/stepwise (or pass connectionString / pool to createPostgresWorld).",
    );
  }
  return value.trim();
}

/** Parses a postgres:// URL into the target error messages name; `ConfigError` when it is not one. */
export function parseTarget(connectionString: string): Target {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    throw new ConfigError(
      `The PostgreSQL connection string is not a valid URL (${redact(connectionString)}). Use the form postgres://user:password@host:5432/database.`,
    );
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new ConfigError(
      `The PostgreSQL connection string must start with postgres:// or postgresql:// (got ${url.protocol}//).`,
    );
  }
  const user = decodeURIComponent(url.username) || process.env.PGUSER || process.env.USER || "postgres";
  return {
    host: url.hostname || url.searchParams.get("host") || "localhost",
    port: Number(url.port || 5432),
    database: decodeURIComponent(url.pathname.slice(1)) || user,
    user,
  };
}

/** The target of a pool the caller made. */
export function targetOfPool(pool: pg.Pool): Target {
  const options = pool.options as pg.PoolConfig;
  if (options.connectionString) return parseTarget(options.connectionString);
  const user = options.user ?? process.env.PGUSER ?? "postgres";
  return {
    host: typeof options.host === "string" ? options.host : (process.env.PGHOST ?? "localhost"),
    port: Number(options.port ?? process.env.PGPORT ?? 5432),
    database: options.database ?? process.env.PGDATABASE ?? user,
    user,
  };
}

function redact(connectionString: string): string {
  return connectionString.replace(/\/\/([^:/@]*):[^@]*@/, "//$1:***@");
}

interface ErrorLike {
  code?: unknown;
  message?: unknown;
}

/** SQLSTATE classes and Node error codes that mean "the connection, not the query, failed". */
const TRANSIENT_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH"]);
const TRANSIENT_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "08000", "08003", "08006", "08001"]);
const CONNECTION_MESSAGES =
  /Connection terminated|connection timeout|timeout expired|Client has encountered a connection error|not queryable/i;

/** Whether `error` came from the connection (the server is unreachable or went away), not from SQL. */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as ErrorLike;
  if (typeof code === "string") {
    if (TRANSIENT_NODE_CODES.has(code) || TRANSIENT_SQLSTATES.has(code)) return true;
    if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "28P01" || code === "28000") return true;
    if (code === "3D000") return true;
  }
  return typeof message === "string" && CONNECTION_MESSAGES.test(message);
}

/** An error the server raised for a statement (a SQLSTATE), the connection being fine. */
export function isSqlError(error: unknown): boolean {
  if (StepwiseError.is(error) || isConnectionError(error)) return false;
  const code = (error as ErrorLike | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code);
}

/**
 * Turns a connection failure into an error that names the server and the reason. Errors that are
 * not connection failures (and Stepwise's own errors) are returned unchanged.
 */
export function connectionFailure(error: unknown, target: Target, doing: string): unknown {
  if (StepwiseError.is(error) || !isConnectionError(error)) return error;
  const { code, message } = error as ErrorLike;
  const text = typeof message === "string" ? message : String(error);
  const where = describeTarget(target);
  const fix = "Check STEPWISE_POSTGRES_URL.";
  switch (code) {
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new ConfigError(`Cannot ${doing}: the host "${target.host}" was not found (${code}). ${fix}`, {
        cause: error,
      });
    case "28P01":
      return new ConfigError(
        `Cannot ${doing}: ${where} refused the password of user "${target.user}" (authentication failed). ${fix}`,
        { cause: error },
      );
    case "28000":
      return new ConfigError(
        `Cannot ${doing}: ${where} does not let user "${target.user}" in (${text}). ${fix}`,
        { cause: error },
      );
    case "3D000":
      return new ConfigError(
        `Cannot ${doing}: ${where} has no database "${target.database}". Create it (createdb ${target.database}) or ${fix.toLowerCase()}`,
        { cause: error },
      );
    case "ECONNREFUSED":
      return new WorldUnavailableError(
        `Cannot ${doing}: ${where} refused the connection (ECONNREFUSED). Is the server running and listening on ${target.host}:${target.port}? ${fix}`,
        { cause: error },
      );
    case "57P01":
    case "57P02":
      return new WorldUnavailableError(
        `Cannot ${doing}: ${where} closed the connection (${text}). The next call reconnects.`,
        { cause: error },
      );
    case "57P03":
      return new WorldUnavailableError(
        `Cannot ${doing}: ${where} is starting up or shutting down (${text}). The next call reconnects.`,
        { cause: error },
      );
    case "53300":
      return new WorldUnavailableError(
        `Cannot ${doing}: ${where} has no connection slots left (${text}). Lower poolSize or raise max_connections.`,
        { cause: error },
      );
    default:
      return new WorldUnavailableError(
        `Cannot ${doing}: the connection to ${where} failed (${typeof code === "string" ? `${code}: ` : ""}${text}). The next call reconnects.`,
        { cause: error },
      );
  }
}
