/**
 * Applies the postgres World's migrations (`migrations/`). The schema version is recorded in
 * `<schema>.schema_migrations`, one row per applied migration. Every World start checks it: a
 * current schema costs two quick reads; anything else is migrated in ONE transaction that first
 * takes an advisory lock, so N workers starting at once migrate exactly once (the others wait, then
 * find it done). A database whose schema is newer than this code is refused, saying so, and left
 * untouched. `migrate()` is the same for operators who prefer to migrate before deploying
 * (`npx stepwise migrate`).
 */
import pg from "pg";
import { ConfigError } from "../../errors/runtime.ts";
import {
  connectionFailure,
  describeTarget,
  parseTarget,
  resolveConnectionString,
  type Target,
} from "./connection.ts";
import { LATEST_VERSION, MIGRATIONS } from "./migrations/index.ts";

export const DEFAULT_SCHEMA = "stepwise";

/** First key of the advisory lock: "STPW". The second is hashtext(schema). */
const LOCK_NAMESPACE = 0x53545057;

export interface MigrateResult {
  schema: string;
  /** The version the database had (0: none). */
  from: number;
  /** The version it has now. */
  to: number;
}

/** Schema names are plain lower-case identifiers; the NOTIFY channel is derived from them. */
export function checkSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,39}$/.test(schema)) {
    throw new ConfigError(
      `"${schema}" cannot be the postgres World's schema: use lower-case letters, digits and _ (at most 40, not starting with a digit).`,
    );
  }
  return schema;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function tooNew(schema: string, version: number, target: Target): ConfigError {
  return new ConfigError(
    `The Stepwise schema "${schema}" in ${describeTarget(target)} has version ${version}, which is newer than this version of Stepwise understands (up to ${LATEST_VERSION}). It was migrated by a newer Stepwise: upgrade Stepwise, or point STEPWISE_POSTGRES_URL at another database. Nothing was changed.`,
  );
}

async function currentVersion(client: pg.ClientBase, s: string): Promise<number | undefined> {
  const table = `${s}.schema_migrations`;
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [table]);
  if (exists.rows[0]?.t == null) return undefined;
  const result = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${table}`);
  return result.rows[0]?.v ?? 0;
}

/**
 * Brings `schema` up to date over `client` (which stays open). With `checkOnly`, changes nothing
 * and reports the version found (`from`) and the one this code needs (`to`).
 */
export async function migrateWith(
  client: pg.ClientBase,
  schema: string,
  target: Target,
  options: { checkOnly?: boolean } = {},
): Promise<MigrateResult> {
  const s = quoteIdent(checkSchemaName(schema));
  const before = await currentVersion(client, s);
  if (before !== undefined && before > LATEST_VERSION) throw tooNew(schema, before, target);
  if (before === LATEST_VERSION || options.checkOnly)
    return { schema, from: before ?? 0, to: LATEST_VERSION };

  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [LOCK_NAMESPACE, schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
         version    integer PRIMARY KEY,
         name       text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const from = (await currentVersion(client, s)) ?? 0;
    if (from > LATEST_VERSION) throw tooNew(schema, from, target);
    for (const migration of MIGRATIONS) {
      if (migration.version <= from) continue;
      await client.query(migration.sql(s));
      await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
    await client.query("COMMIT");
    return { schema, from, to: LATEST_VERSION };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/**
 * For operators: migrates the schema (default "stepwise") of the database at `connectionString`
 * (default STEPWISE_POSTGRES_URL) and closes its connection. Safe to run while workers start.
 */
export async function migrate(
  connectionString?: string,
  options: { schema?: string } = {},
): Promise<MigrateResult> {
  const url = resolveConnectionString(connectionString);
  const target = parseTarget(url);
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => {}); // a dropped connection fails the query in flight, reported below
  try {
    await client.connect();
  } catch (error) {
    throw connectionFailure(error, target, "migrate the Stepwise schema");
  }
  try {
    return await migrateWith(client, schema, target);
  } catch (error) {
    throw connectionFailure(error, target, "migrate the Stepwise schema");
  } finally {
    await client.end().catch(() => {});
  }
}
