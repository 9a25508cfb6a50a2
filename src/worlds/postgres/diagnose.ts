/**
 * `npx stepwise doctor` for the postgres World: connects (read-only use: it changes nothing) and
 * reports whether the server can be reached, the Stepwise schema's version against the one this
 * code needs, and whether its tables are all there. PostgreSQL guards its own storage (WAL, and data
 * checksums when the cluster has them), so doctor does not check pages: it says which PostgreSQL
 * tools do.
 */
import pg from "pg";
import { ConfigError } from "../../errors/runtime.ts";
import type { HealthFinding, HealthReport } from "../health.ts";
import { connectionFailure, describeTarget, parseTarget, resolveConnectionString } from "./connection.ts";
import { checkSchemaName, DEFAULT_SCHEMA, migrateWith, quoteIdent } from "./migrate.ts";
import { LATEST_VERSION, MIGRATIONS } from "./migrations/index.ts";

export interface DiagnosePostgresOptions {
  /** Default: STEPWISE_POSTGRES_URL. */
  connectionString?: string;
  /** Default: "stepwise". */
  schema?: string;
}

/** The tables Stepwise's migrations create in `schema`. */
function expectedTables(schema: string): string[] {
  const s = quoteIdent(schema);
  const pattern = new RegExp(
    `CREATE TABLE (?:IF NOT EXISTS )?${s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.(\\w+)`,
    "g",
  );
  return MIGRATIONS.flatMap((migration) =>
    [...migration.sql(s).matchAll(pattern)].map((m) => m[1] as string),
  );
}

/**
 * Examines the postgres World at `connectionString`. `ConfigError` when no connection string is set
 * or it is malformed; everything else it finds (an unreachable server, an old or newer schema) is a
 * finding.
 */
export async function diagnosePostgres(options: DiagnosePostgresOptions = {}): Promise<HealthReport> {
  const url = resolveConnectionString(options.connectionString);
  const target = parseTarget(url);
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  const findings: HealthFinding[] = [];
  const report: HealthReport = {
    world: "postgres",
    target: `${describeTarget(target)}, schema "${schema}"`,
    findings,
  };
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => {}); // a dropped connection fails the query in flight, reported below
  try {
    await client.connect();
  } catch (error) {
    const failure = connectionFailure(error, target, "check the postgres World");
    findings.push({
      check: "connection",
      status: "problem",
      summary: (failure as Error).message,
      advice: "Fix the connection (server, STEPWISE_POSTGRES_URL), then run doctor again.",
    });
    await client.end().catch(() => {});
    return report;
  }
  try {
    const version =
      (await client.query<{ server_version: string }>("SHOW server_version")).rows[0]?.server_version ?? "?";
    findings.push({ check: "connection", status: "ok", summary: `Reached PostgreSQL ${version}.` });
    let from: number;
    try {
      ({ from } = await migrateWith(client, schema, target, { checkOnly: true }));
    } catch (error) {
      if (!ConfigError.is(error)) throw error;
      findings.push({
        check: "schema",
        status: "problem",
        summary: (error as Error).message,
        advice: "Upgrade Stepwise to the version that migrated it, or later.",
      });
      return report;
    }
    if (from === 0) {
      findings.push({
        check: "schema",
        status: "ok",
        summary: `No Stepwise schema "${schema}" yet: the first worker creates it (or run \`npx stepwise migrate\`).`,
      });
      return report;
    }
    const present = new Set(
      (
        await client.query<{ name: string }>(
          "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1",
          [schema],
        )
      ).rows.map((row) => row.name),
    );
    const missing = expectedTables(schema).filter((table) => !present.has(table));
    if (missing.length > 0 && from === LATEST_VERSION) {
      findings.push({
        check: "schema",
        status: "problem",
        summary: `Schema version ${from}, but the tables ${missing.join(", ")} are missing.`,
        advice: "Someone dropped them: restore the database from a backup.",
      });
    } else {
      findings.push(
        from === LATEST_VERSION
          ? { check: "schema", status: "ok", summary: `Schema version ${from}, the current one.` }
          : {
              check: "schema",
              status: "warning",
              summary: `Schema version ${from}; this Stepwise needs ${LATEST_VERSION}.`,
              advice:
                "Workers migrate it when they start; to do it as a deployment step, run `npx stepwise migrate`.",
            },
      );
    }
    findings.push({
      check: "storage",
      status: "ok",
      summary: "PostgreSQL guards its own storage; doctor does not read its pages.",
      advice:
        "To check them, use PostgreSQL's tools: pg_amcheck (the amcheck extension), and data checksums (initdb --data-checksums, or pg_checksums).",
    });
    return report;
  } catch (error) {
    throw connectionFailure(error, target, "check the postgres World");
  } finally {
    await client.end().catch(() => {});
  }
}
