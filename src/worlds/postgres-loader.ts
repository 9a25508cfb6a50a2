/**
 * The one way Stepwise loads the postgres World. Its driver, node-postgres (`pg`), is an optional
 * peer dependency: a project on the embedded SQLite World does not install it. Everything that
 * needs the postgres World (`STEPWISE_WORLD=postgres`, `npx stepwise migrate`, `npx stepwise
 * doctor` on PostgreSQL) imports it through `loadPostgres`, so that a missing driver is a
 * `ConfigError` that says what to install instead of Node's `ERR_MODULE_NOT_FOUND` from deep
 * inside the package.
 */
import { ConfigError } from "../errors/runtime.ts";

/** What the postgres World's module exports: `createPostgresWorld`, `migrate`, `diagnosePostgres`. */
export type PostgresModule = typeof import("./postgres/index.ts");

/** True when `error` is Node's failure to find the `pg` package itself (not a module inside it). */
function isMissingDriver(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    typeof message === "string" &&
    /(?:package|module) ['"]pg['"]/.test(message)
  );
}

/**
 * Imports the postgres World's module. `purpose` names what needed it, for the error
 * ("STEPWISE_WORLD=postgres", "npx stepwise migrate", ...). Throws a `ConfigError` saying
 * `npm install pg` when the driver is not installed (without Node's error as its cause: the message
 * says all of it, and Node would print that error's stack after it); other failures are rethrown.
 */
export async function loadPostgres(purpose: string): Promise<PostgresModule> {
  try {
    return await import("./postgres/index.ts");
  } catch (error) {
    if (!isMissingDriver(error)) throw error;
    throw new ConfigError(
      `${purpose} needs the PostgreSQL driver, node-postgres, which is not installed: it is an optional peer dependency of stepwise-workflows, so projects on the embedded SQLite World do without it. Install it in your project with: npm install pg`,
    );
  }
}
