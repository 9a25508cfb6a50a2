/**
 * Encryption at rest on the postgres World, in real processes on a throwaway server: with
 * STEPWISE_ENCRYPTION_KEY set, neither the World's tables (every row of every table, as text) nor
 * the server's files on disk (heap, WAL, after a CHECKPOINT) hold plaintext of a run's input, step
 * arguments, results and errors, hook payloads, stream chunks, output or failure; without a key
 * they hold all of it (which proves the search works). Rotation keeps older runs readable, and
 * `inspect --decrypt` records its audit entry in the same database. The World is opened through
 * `postgres-world.mjs` in the project (a STEPWISE_WORLD module), with one schema per phase.
 * (These tests load `dist/`: run `npm run build` first.)
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PostgresServer, startPostgres } from "../helpers/postgres.ts";
import { type Project, runNode } from "../helpers/project.ts";
import {
  type AppOutput,
  encryptionProject,
  MARKS,
  marksIn,
  readable,
  readRuns,
  runApp,
} from "../serde/encryption-project.ts";

const FIRST_KEY = randomBytes(32).toString("base64");
const SECOND_KEY = randomBytes(32).toString("base64");

let server: PostgresServer;
let admin: pg.Client;
let project: Project;
let url = "";

const world = (schema: string, key?: string): Record<string, string> => ({
  STEPWISE_WORLD: join(project.dir, "postgres-world.mjs"),
  STEPWISE_POSTGRES_URL: url,
  TEST_POSTGRES_SCHEMA: schema,
  ...(key === undefined ? {} : { STEPWISE_ENCRYPTION_KEY: key }),
});

beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase();
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
  project = encryptionProject();
}, 120_000);

afterAll(async () => {
  await admin?.end();
  await server?.stop();
  project?.remove();
});

/** Every row of every table of `schema`, as Postgres prints it (bytea as hex). */
async function tableText(schema: string): Promise<Buffer> {
  const tables = await admin.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
    [schema],
  );
  expect(tables.rows.map((row) => row.table_name)).toEqual(expect.arrayContaining(["events", "audit"]));
  const parts: string[] = [];
  for (const { table_name } of tables.rows) {
    const rows = await admin.query<{ row: string }>(
      `SELECT t::text AS row FROM "${schema}"."${table_name}" t`,
    );
    parts.push(...rows.rows.map((row) => row.row));
  }
  return Buffer.from(parts.join("\n"));
}

/** The markers of `tag` in the rows, in clear or hex-encoded (bytea). */
async function marksInTables(schema: string, tag: string): Promise<string[]> {
  const text = await tableText(schema);
  return MARKS.filter(
    (mark) => text.includes(`${tag}-${mark}`) || text.includes(Buffer.from(`${tag}-${mark}`).toString("hex")),
  );
}

/** Every file of the server's cluster (data directory and WAL) after a checkpoint, concatenated. */
async function clusterFiles(): Promise<Buffer> {
  await admin.query("CHECKPOINT");
  const chunks: Buffer[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) chunks.push(readFileSync(path));
    }
  };
  walk(server.dir);
  return Buffer.concat(chunks);
}

describe("encryption at rest on the postgres World", () => {
  let first: AppOutput;

  it("stores no plaintext of any payload kind in the tables or in the server's files", async () => {
    first = (await runApp(project, world("enc", FIRST_KEY), "S3CR3T-PGENC", "pg-first")).output;
    expect(await marksInTables("enc", "S3CR3T-PGENC")).toEqual([]);
    const files = await clusterFiles();
    expect(files.includes("S3CR3T-PGENC")).toBe(false);
    const formats = await admin.query<{ format: number }>(
      `SELECT get_byte(payload, 0) AS format FROM enc.events WHERE payload IS NOT NULL
       UNION ALL SELECT get_byte(data, 0) FROM enc.stream_chunks`,
    );
    expect(formats.rows.length).toBeGreaterThanOrEqual(9);
    expect(new Set(formats.rows.map((row) => row.format))).toEqual(new Set([0x03]));
  });

  it("without a key, the same runs leave every marker in the tables and on disk", async () => {
    await runApp(project, world("plain"), "S3CR3T-PGPLAIN", "pg-plain");
    expect(await marksInTables("plain", "S3CR3T-PGPLAIN")).toEqual([...MARKS]);
    expect(marksIn(await clusterFiles(), "S3CR3T-PGPLAIN")).toEqual([...MARKS]);
  });

  it("after rotating the key, older runs stay readable", async () => {
    const rotated = { ...world("enc", SECOND_KEY), STEPWISE_ENCRYPTION_OLD_KEYS: FIRST_KEY };
    const second = (await runApp(project, rotated, "S3CR3T-PGROT", "pg-second")).output;
    expect(await readRuns(project, rotated, first)).toEqual(readable("S3CR3T-PGENC"));
    expect(await readRuns(project, rotated, second)).toEqual(readable("S3CR3T-PGROT"));
    expect(await marksInTables("enc", "S3CR3T-PGROT")).toEqual([]);
    const failure = await readRuns(project, world("enc", SECOND_KEY), first);
    expect(failure.code).toBe("PAYLOAD_DECRYPTION");
  });

  it("inspect shows <encrypted>, and --decrypt records its audit entry in the database first", async () => {
    const env = { ...world("enc", SECOND_KEY), STEPWISE_ENCRYPTION_OLD_KEYS: FIRST_KEY };
    const cli = (...args: string[]) =>
      runNode([join(project.dir, "node_modules/.bin/stepwise"), ...args], project.dir, env);
    const hidden = await cli("inspect", "runs", first.runId);
    expect(hidden.stdout).toMatch(/input\s+<encrypted>/);
    const shown = await cli("inspect", "runs", first.runId, "--decrypt", "--reason", "pg audit");
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain("S3CR3T-PGENC-OUTPUT");
    const audit = await admin.query(
      "SELECT action, resource, run_ids, reason, outcome, refers_to IS NOT NULL AS refers FROM enc.audit ORDER BY audit_id",
    );
    // The record written before decrypting, then the one saying how it ended.
    expect(audit.rows).toEqual([
      {
        action: "decrypt",
        resource: "runs",
        run_ids: [first.runId],
        reason: "pg audit",
        outcome: null,
        refers: false,
      },
      {
        action: "decrypt",
        resource: "runs",
        run_ids: [first.runId],
        reason: null,
        outcome: "succeeded",
        refers: true,
      },
    ]);
  });
});
