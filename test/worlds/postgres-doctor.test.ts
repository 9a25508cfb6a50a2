/**
 * `npx stepwise doctor` on the postgres World, as a library, against a real PostgreSQL server: it
 * reports whether the server answers, the schema's version against the one this code needs (none
 * yet, older, current, newer) and missing tables, and says that PostgreSQL's own tools check its
 * storage. It changes nothing.
 */
import net from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDoctorReport, type HealthReport, isHealthy, runDoctor } from "../../src/ops/doctor.ts";
import { createPostgresWorld } from "../../src/worlds/postgres/index.ts";
import { LATEST_VERSION } from "../../src/worlds/postgres/migrations/index.ts";
import { type PostgresServer, startPostgres } from "../helpers/postgres.ts";

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const doctor = (connectionString: string, schema?: string): Promise<HealthReport> =>
  runDoctor({ world: "postgres", connectionString, ...(schema === undefined ? {} : { schema }) });
const finding = (report: HealthReport, check: string) => report.findings.find((f) => f.check === check);

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

describe("stepwise doctor on the postgres World", () => {
  it("before any worker ran: no schema yet, which is fine", async () => {
    const url = await server.createDatabase();
    const report = await doctor(url);
    expect(report.target).toContain(`127.0.0.1:${server.port}`);
    expect(finding(report, "connection")?.summary).toMatch(/^Reached PostgreSQL 15/);
    expect(finding(report, "schema")).toMatchObject({ status: "ok" });
    expect(finding(report, "schema")?.summary).toContain('No Stepwise schema "stepwise" yet');
    expect(isHealthy(report)).toBe(true);
  });

  it("a migrated schema is current and healthy; an older one is a warning; a newer one a problem", async () => {
    const url = await server.createDatabase();
    await (await createPostgresWorld({ connectionString: url })).close();
    const current = await doctor(url);
    expect(finding(current, "schema")?.summary).toBe(`Schema version ${LATEST_VERSION}, the current one.`);
    expect(finding(current, "storage")?.advice).toContain("pg_amcheck");
    expect(formatDoctorReport(current)).toMatch(/\n\nHealthy\.$/);

    await sql(url, `DELETE FROM stepwise.schema_migrations WHERE version = ${LATEST_VERSION}`);
    const older = await doctor(url);
    expect(finding(older, "schema")).toMatchObject({ status: "warning" });
    expect(finding(older, "schema")?.advice).toContain("npx stepwise migrate");
    expect(isHealthy(older)).toBe(true);

    await sql(
      url,
      `INSERT INTO stepwise.schema_migrations (version, name) VALUES (${LATEST_VERSION + 5}, 'future')`,
    );
    const newer = await doctor(url);
    expect(finding(newer, "schema")).toMatchObject({ status: "problem" });
    expect(finding(newer, "schema")?.summary).toContain(`has version ${LATEST_VERSION + 5}, which is newer`);
    expect(isHealthy(newer)).toBe(false);
  });

  it("a current schema missing a table is a problem", async () => {
    const url = await server.createDatabase();
    await (await createPostgresWorld({ connectionString: url })).close();
    await sql(url, "DROP TABLE stepwise.audit");
    const report = await doctor(url);
    expect(finding(report, "schema")).toMatchObject({ status: "problem" });
    expect(finding(report, "schema")?.summary).toContain("the tables audit are missing");
  });

  it("a server that refuses connections is a problem that names it", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const { port: free } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const report = await doctor(`postgres://postgres@127.0.0.1:${port}/postgres`);
    expect(finding(report, "connection")).toMatchObject({ status: "problem" });
    expect(finding(report, "connection")?.summary).toContain(`127.0.0.1:${port}`);
    expect(finding(report, "connection")?.summary).toContain("refused the connection");
  });
});
