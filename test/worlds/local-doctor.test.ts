/**
 * `npx stepwise doctor` on the local World, as a library (`runDoctor`, `formatDoctorReport`): on real
 * files — healthy, missing, empty, another application's, newer, older, and damaged in the two ways
 * SQLite reports damage (problems it lists, a page so malformed that the check stops) — it says
 * what it found and what to do, and it never writes to the file.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatDoctorReport, type HealthReport, isHealthy, runDoctor } from "../../src/ops/doctor.ts";
import { createRun } from "../../src/world/testing/fixtures.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";
import { LATEST_VERSION } from "../../src/worlds/local/migrations.ts";

let dataDir: string;
let file: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "stepwise-doctor-"));
  file = join(dataDir, "stepwise.db");
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

const digest = (): string => createHash("sha256").update(readFileSync(file)).digest("hex");
const doctor = (): Promise<HealthReport> => runDoctor({ world: "local", dataDir });
const statuses = (report: HealthReport): Record<string, string> =>
  Object.fromEntries(report.findings.map((finding) => [finding.check, finding.status]));
const finding = (report: HealthReport, check: string) => report.findings.find((f) => f.check === check);

async function stepwiseDatabase(runs = 40): Promise<void> {
  const world = createLocalWorld({ dataDir });
  for (let index = 0; index < runs; index++) {
    const run = await createRun(world, { runId: `wrun_${String(index).padStart(4, "0")}` });
    await world.events.append({
      runId: run.runId,
      expectedSeq: 1,
      events: [
        { type: "run_started", data: {} },
        {
          type: "step_started",
          data: { stepId: "s1", stepName: "step//x//y", attempt: 1 },
          payload: new Uint8Array(3000).fill(index),
        },
      ],
    });
  }
  await world.close();
}

/** Pages of a table or index, leftmost first. */
function pagesOf(name: string, type: "leaf" | "internal" = "leaf"): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare<[string, string], { pageno: number }>(
        "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY path",
      )
      .all(name, type)
      .map((row) => row.pageno);
  } finally {
    db.close();
  }
}

/** Applies `change` to the bytes of page `page` of the closed file. */
function changePage(page: number, change: (bytes: Buffer) => void): void {
  const bytes = readFileSync(file);
  const pageSize = bytes.readUInt16BE(16);
  change(bytes.subarray((page - 1) * pageSize, page * pageSize));
  writeFileSync(file, bytes);
}

describe("stepwise doctor on the local World", () => {
  it("calls a sound Stepwise database healthy, and writes nothing to it", async () => {
    await stepwiseDatabase();
    const before = digest();
    const report = await doctor();
    expect(report.target).toBe(file);
    expect(statuses(report)).toEqual({
      file: "ok",
      owner: "ok",
      schema: "ok",
      integrity: "ok",
      WAL: "ok",
      "free space": "ok",
    });
    expect(finding(report, "schema")?.summary).toBe(`Schema version ${LATEST_VERSION}, the current one.`);
    expect(isHealthy(report)).toBe(true);
    expect(formatDoctorReport(report)).toMatch(/\n\nHealthy\.$/);
    expect(digest()).toBe(before);
  });

  it("lists the problems SQLite finds, names the damaged table, and says to restore a backup", async () => {
    await stepwiseDatabase();
    // An index whose entries no longer match its table (as after a torn write): the schema is
    // edited to index another column, so every entry the file holds is now wrong.
    const db = new Database(file);
    db.unsafeMode(true); // lifts SQLite's defensive mode, which forbids editing the schema
    db.pragma("writable_schema = ON");
    db.prepare(
      "UPDATE sqlite_schema SET sql = replace(sql, '(workflow_name,', '(status,') WHERE name = ?",
    ).run("runs_by_workflow");
    db.close();
    const before = digest();
    const report = await doctor();
    const integrity = finding(report, "integrity");
    expect(integrity?.status).toBe("problem");
    expect(integrity?.summary).toMatch(
      /^SQLite's integrity_check found (\d+|at least 20) problems? in the runs table/,
    );
    expect(
      integrity?.details?.some((line) => line.includes("row 1 missing from index runs_by_workflow")),
    ).toBe(true);
    expect(integrity?.advice).toContain("replace stepwise.db with your latest backup");
    expect(integrity?.advice).toContain("delete stepwise.db-wal and stepwise.db-shm");
    expect(isHealthy(report)).toBe(false);
    const text = formatDoctorReport(report);
    expect(text).toContain("PROBLEM  integrity");
    expect(text).toContain("What to do: Stop every Stepwise process");
    expect(text).toMatch(/Not healthy: 1 problem above\./);
    expect(digest()).toBe(before);
  });

  it("finds where the damage is when a malformed page stops SQLite's check", async () => {
    await stepwiseDatabase();
    const leaves = pagesOf("events");
    changePage(leaves[Math.floor(leaves.length / 2)] as number, (bytes) => bytes.fill(0xa5));
    const integrity = finding(await doctor(), "integrity");
    expect(integrity?.status).toBe("problem");
    expect(integrity?.summary).toContain("SQLite's integrity_check stopped at a malformed page");
    expect(integrity?.summary).toContain("the damage is in the events table");
  });

  it("says when there is no database yet, or only an empty file", async () => {
    const missing = await doctor();
    expect(isHealthy(missing)).toBe(true);
    expect(missing.findings[0]?.summary).toBe(
      `There is no database at ${file} yet: Stepwise creates it on first use.`,
    );
    writeFileSync(file, "");
    expect((await doctor()).findings[0]?.summary).toBe("An empty file: Stepwise sets it up on first use.");
  });

  it("calls another application's database, or a file that is not one, a problem", async () => {
    const other = new Database(file);
    other.exec("CREATE TABLE invoices (id)");
    other.close();
    const foreign = await doctor();
    expect(finding(foreign, "owner")).toMatchObject({ status: "problem" });
    expect(finding(foreign, "owner")?.summary).toContain(
      "it holds tables Stepwise does not create (invoices)",
    );
    writeFileSync(file, "plain text, no database\n".repeat(100));
    const text = await doctor();
    expect(finding(text, "file")?.status).toBe("problem");
    expect(finding(text, "file")?.summary).toContain(
      "is not a SQLite database, or its first page (the header) is damaged",
    );
  });

  it("reports an older schema as the next open's job, and a newer one as a problem", async () => {
    await stepwiseDatabase(2);
    const db = new Database(file);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    const newer = await doctor();
    expect(finding(newer, "schema")).toMatchObject({ status: "problem" });
    expect(finding(newer, "schema")?.summary).toContain(
      `has schema version ${LATEST_VERSION + 1}, which is newer`,
    );
    expect(finding(newer, "integrity")?.status).toBe("ok");
  });

  it("warns about a large share of free pages, saying how to give the space back", async () => {
    const world = createLocalWorld({ dataDir });
    for (let index = 0; index < 30; index++) {
      await world.streams.write((await createRun(world)).runId, "big", [new Uint8Array(1024 * 1024)]);
    }
    await world.close();
    const db = new Database(file);
    db.exec("DELETE FROM stream_chunks");
    db.close();
    const free = finding(await doctor(), "free space");
    expect(free?.status).toBe("warning");
    expect(free?.advice).toContain(`sqlite3 ${file} VACUUM`);
  });
});
