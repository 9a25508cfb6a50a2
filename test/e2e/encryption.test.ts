/**
 * Encryption at rest on the local World, in real processes (DESIGN.md §6): with
 * STEPWISE_ENCRYPTION_KEY set, the raw bytes of `stepwise.db` and its WAL hold no plaintext of a
 * run's input, step arguments, results and errors, hook payloads, stream chunks, output or failure
 * (and, to prove the search works, they hold every one of them without a key, with one notice on
 * stderr); rotating the key keeps older runs readable, and a missing key is an error naming the key
 * id; `npx stepwise inspect` shows `<encrypted>` unless asked to `--decrypt`, which writes an audit
 * record first — or shows nothing when it cannot. (These tests load `dist/`: run `npm run build`.)
 */
import { randomBytes } from "node:crypto";
import { userInfo } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLAINTEXT_NOTICE, parseEncryptionKey } from "../../src/serde/keys.ts";
import { type NodeResult, npxStepwise, type Project, REGISTER, runNode } from "../helpers/project.ts";
import {
  type AppOutput,
  encryptionProject,
  MARKS,
  marksIn,
  readable,
  readRuns,
  runApp,
  sqliteFiles,
} from "../serde/encryption-project.ts";

const FIRST_KEY = randomBytes(32).toString("base64");
const SECOND_KEY = randomBytes(32).toString("hex");
const FIRST_ID = parseEncryptionKey(FIRST_KEY, "k").id;
const SECOND_ID = parseEncryptionKey(SECOND_KEY, "k").id;

let project: Project;
const local = (dir: string): Record<string, string> => ({ STEPWISE_WORLD: "local", STEPWISE_DATA_DIR: dir });
const encrypted = { ...local(".enc"), STEPWISE_ENCRYPTION_KEY: FIRST_KEY };
const rotated = {
  ...local(".enc"),
  STEPWISE_ENCRYPTION_KEY: SECOND_KEY,
  STEPWISE_ENCRYPTION_OLD_KEYS: FIRST_KEY,
};
let first: AppOutput;
let second: AppOutput;

/** The stepwise CLI in the project, as a user runs it (through node, for speed). */
const stepwise = (env: Record<string, string>, ...args: string[]): Promise<NodeResult> =>
  runNode([join(project.dir, "node_modules/.bin/stepwise"), ...args], project.dir, env);

beforeAll(async () => {
  project = encryptionProject();
  first = (await runApp(project, encrypted, "S3CR3T-FIRST", "first")).output;
}, 120_000);
afterAll(() => project.remove());

/** Every payload column of the local World's tables, with the first byte of each payload. */
function storedFormats(dataDir: string): { formats: number[]; keyIds: string[] } {
  const db = new Database(join(project.dir, dataDir, "stepwise.db"), { readonly: true });
  try {
    const rows = db
      .prepare(
        `SELECT payload AS bytes FROM events WHERE payload IS NOT NULL
         UNION ALL SELECT payload FROM inbox WHERE payload IS NOT NULL
         UNION ALL SELECT data FROM stream_chunks`,
      )
      .all() as { bytes: Buffer }[];
    return {
      formats: rows.map((row) => row.bytes[0] ?? -1),
      keyIds: rows.map((row) => row.bytes.subarray(1, 9).toString("hex")),
    };
  } finally {
    db.close();
  }
}

describe("encryption at rest on the local World", () => {
  it("stores no plaintext of any payload kind in the database file or its WAL", () => {
    const bytes = sqliteFiles(join(project.dir, ".enc"));
    expect(bytes.includes("S3CR3T-FIRST")).toBe(false);
    expect(marksIn(bytes, "S3CR3T-FIRST")).toEqual([]);
    const { formats, keyIds } = storedFormats(".enc");
    // run input, step args, result and error (twice: step_failed), hook payload (event), output, stream chunk, failed run's input and error
    expect(formats.length).toBeGreaterThanOrEqual(9);
    expect(new Set(formats)).toEqual(new Set([0x03]));
    expect(new Set(keyIds)).toEqual(new Set([FIRST_ID]));
  });

  it("without a key, stores everything in clear (so the search above can find it) and says so once", async () => {
    const { process } = await runApp(project, local(".plain"), "S3CR3T-PLAIN", "plain");
    expect(marksIn(sqliteFiles(join(project.dir, ".plain")), "S3CR3T-PLAIN")).toEqual([...MARKS]);
    expect(process.stderr).toBe(`${PLAINTEXT_NOTICE}\n`);
    expect(new Set(storedFormats(".plain").formats)).toEqual(new Set([0x01]));
  });

  it("says nothing about encryption when a key is set", async () => {
    const { process } = await runApp(project, encrypted, "S3CR3T-QUIET", "quiet");
    expect(process.stderr).toBe("");
  });

  it("after rotating the key, older runs stay readable and new runs use the new key", async () => {
    second = (await runApp(project, rotated, "S3CR3T-SECOND", "second")).output;
    expect(await readRuns(project, rotated, first)).toEqual(readable("S3CR3T-FIRST"));
    expect(await readRuns(project, rotated, second)).toEqual(readable("S3CR3T-SECOND"));
    expect(new Set(storedFormats(".enc").keyIds)).toEqual(new Set([FIRST_ID, SECOND_ID]));
    expect(sqliteFiles(join(project.dir, ".enc")).includes("S3CR3T-SECOND")).toBe(false);
  });

  it("without the old key, reading an older run fails with an error naming its key id", async () => {
    const newOnly = { ...local(".enc"), STEPWISE_ENCRYPTION_KEY: SECOND_KEY };
    expect(await readRuns(project, newOnly, second)).toEqual(readable("S3CR3T-SECOND"));
    const failure = await readRuns(project, newOnly, first);
    expect(failure.code).toBe("PAYLOAD_DECRYPTION");
    expect(failure.message).toBe(
      `A payload of run ${first.runId} (the run's return value) is encrypted with key id ${FIRST_ID}, which this process does not have (it has current ${SECOND_ID}, no old keys). Set STEPWISE_ENCRYPTION_KEY to that key, or add it to STEPWISE_ENCRYPTION_OLD_KEYS (comma-separated) if it was rotated out.`,
    );
    const noKey = await readRuns(project, local(".enc"), first);
    expect(noKey.code).toBe("PAYLOAD_DECRYPTION");
    expect(noKey.message).toContain(`encrypted with key id ${FIRST_ID}`);
    expect(noKey.message).toContain("it has no key: STEPWISE_ENCRYPTION_KEY is not set");
  });

  it("refuses a malformed or weak key at the first payload, saying how to make one", async () => {
    for (const key of ["hunter2", "0".repeat(64)]) {
      const env = { ...local(".bad"), STEPWISE_ENCRYPTION_KEY: key };
      const result = await runNode(["--import", REGISTER, "app.ts", "S3CR3T-BAD", "bad"], project.dir, env);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("STEPWISE_ENCRYPTION_KEY is");
      expect(result.stderr).toContain("openssl rand -base64 32");
      expect(result.stderr).not.toContain(key === "hunter2" ? key : "0000000000");
    }
  });
});

describe("npx stepwise inspect on encrypted runs", () => {
  const auditRows = async (env: Record<string, string>, ...args: string[]) => {
    const result = await stepwise(env, "inspect", "audit", ...args, "--json");
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { items: Record<string, unknown>[] }).items;
  };

  it("shows encrypted payloads as <encrypted> by default, with or without the key, and records nothing", async () => {
    for (const env of [rotated, local(".enc")]) {
      const run = await stepwise(env, "inspect", "runs", first.runId);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/input\s+<encrypted>/);
      expect(run.stdout).toMatch(/output\s+<encrypted>/);
      const steps = await stepwise(env, "inspect", "steps", first.runId, "--json");
      const items = (JSON.parse(steps.stdout) as { items: Record<string, unknown>[] }).items;
      expect(items.map((step) => [step.input, step.result ?? step.error])).toEqual([
        ["<encrypted>", "<encrypted>"],
        ["<encrypted>", "<encrypted>"],
      ]);
      const events = await stepwise(env, "inspect", "events", first.runId);
      expect(events.stdout).toContain("<encrypted>");
      for (const output of [run.stdout, steps.stdout, events.stdout]) expect(output).not.toContain("S3CR3T");
    }
    expect(await auditRows(rotated)).toEqual([]);
  });

  it("--decrypt without a key fails before reading or recording anything", async () => {
    const result = await stepwise(local(".enc"), "inspect", "runs", first.runId, "--decrypt");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Decrypting needs the key the payloads were encrypted with");
    expect(result.stdout).toBe("");
    expect(await auditRows(rotated)).toEqual([]);
  });

  it("--decrypt on a list is refused: it shows no payloads", async () => {
    const result = await stepwise(rotated, "inspect", "runs", "--decrypt");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Decrypting applies to one run's payloads");
  });

  it("--decrypt writes an audit record (who, what, when, why), then shows the payloads", async () => {
    const before = Date.now();
    const result = await npxStepwise(
      ["inspect", "runs", first.runId, "--decrypt", "--reason", "ticket 42: customer asked"],
      project.dir,
      rotated,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("S3CR3T-FIRST-INPUT");
    expect(result.stdout).toContain("S3CR3T-FIRST-OUTPUT");
    const [outcome, record] = await auditRows(rotated);
    expect(outcome).toMatchObject({ refersTo: record?.auditId, outcome: "succeeded" });
    expect(record).toMatchObject({
      actor: { user: userInfo().username, host: expect.any(String), pid: expect.any(Number) },
      action: "decrypt",
      resource: "runs",
      runIds: [first.runId],
      reason: "ticket 42: customer asked",
    });
    expect(Date.parse(record?.at as string)).toBeGreaterThanOrEqual(before - 1000);
    expect(result.stderr).toContain(`Decrypting: recorded in the audit trail as ${String(record?.auditId)}`);

    const steps = await stepwise(rotated, "inspect", "steps", first.runId, "--decrypt", "--json");
    const items = (JSON.parse(steps.stdout) as { items: Record<string, unknown>[] }).items;
    expect(items.map((step) => step.result ?? (step.error as { message: string }).message)).toEqual([
      "S3CR3T-FIRST-STEP-RESULT",
      "S3CR3T-FIRST-STEP-ERROR",
    ]);
    const table = await stepwise(rotated, "inspect", "audit");
    expect(table.stdout).toMatch(/TIME\s+WHO\s+PID\s+ACTION\s+RESOURCE\s+RUNS\s+REASON/);
    expect(table.stdout).toMatch(/decrypt\s+steps/);
    expect(table.stdout).toContain("ticket 42: customer asked");
    // Each decryption: the record written before, then the one saying how it ended.
    expect((await auditRows(rotated, first.runId)).map((row) => [row.resource, row.outcome ?? null])).toEqual(
      [
        ["steps", "succeeded"],
        ["steps", null],
        ["runs", "succeeded"],
        ["runs", null],
      ],
    );
    expect(await auditRows(rotated, second.runId)).toEqual([]);
  });

  it("shows nothing decrypted when the audit record cannot be written", async () => {
    const env = {
      ...rotated,
      STEPWISE_WORLD: join(project.dir, "audit-fails-world.mjs"),
      STEPWISE_DATA_DIR: ".enc",
    };
    const result = await stepwise(env, "inspect", "runs", first.runId, "--decrypt");
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("the audit trail is unavailable");
    expect(result.stdout).not.toContain("S3CR3T");
  });
});
