/**
 * `ops/export.ts` and `ops/import.ts` on real local Worlds (SQLite files), the rules the e2e test
 * does not reach: a run a live worker holds is refused by export (and exported with
 * `includeLeased`), a dead worker's lease is not; encrypted payloads under a key the importing
 * process lacks are refused, naming the key id (and imported, as bytes, with `allowMissingKeys`);
 * (stored console output too); `dryRun` writes nothing; a hook token held by another run in the destination refuses the whole
 * file, writing nothing; a file holding one run twice is refused.
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors/runtime.ts";
import { ConflictError } from "../../src/errors/world.ts";
import { exportRuns } from "../../src/ops/export.ts";
import { ExportFileError } from "../../src/ops/export-format.ts";
import { importRuns } from "../../src/ops/import.ts";
import { SPEC_VERSION } from "../../src/runtime/version.ts";
import { ownerScope } from "../../src/util/owner.ts";
import {
  appendNext,
  expectReject,
  hookCreated,
  runInput,
  snapshot,
  utf8,
} from "../../src/world/testing/fixtures.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";

let dir: string;
let source: World;
let dest: World;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "stepwise-export-ops-"));
  source = createLocalWorld({ dataDir: join(dir, "source") });
  dest = createLocalWorld({ dataDir: join(dir, "dest") });
  file = join(dir, "runs.ndjson");
});
afterEach(async () => {
  await source.close();
  await dest.close();
  rmSync(dir, { recursive: true, force: true });
});

async function exportTo(path: string, options: { includeLeased?: boolean } = {}) {
  const parts: string[] = [];
  const report = await exportRuns({
    world: source,
    filter: {},
    write: async (text) => {
      parts.push(text);
    },
    ...options,
  });
  writeFileSync(path, parts.join(""));
  return report;
}

/** A run waiting on a hook, in the source. */
async function hookedRun(token: string, payload = utf8('["x"]')): Promise<string> {
  const run = await source.runs.create(runInput({ specVersion: SPEC_VERSION, input: payload }));
  await appendNext(source, run.runId, [
    { type: "run_started", data: {} },
    hookCreated(`hook_${token}`, token),
  ]);
  return run.runId;
}

describe("export", () => {
  it("refuses while a live worker holds a run, writing nothing; --include-leased exports it as it is", async () => {
    const runId = await hookedRun("tok-live");
    // An owner on another host: nothing proves it dead, so it may be driving the run right now.
    await source.runs.acquire(runId, "elsewhere/123/abcd/0123456789ab", 60_000);
    const parts: string[] = [];
    const error = await expectReject(
      exportRuns({ world: source, filter: {}, write: async (text) => void parts.push(text) }),
      ConflictError,
    );
    expect(error.message).toContain(runId);
    expect(error.message).toContain("Stop the workers");
    expect(error.message).toContain("--include-leased");
    expect(parts).toEqual([]);

    const report = await exportTo(file, { includeLeased: true });
    expect(report.leased).toEqual([runId]);
    expect(report.counts.runs).toBe(1);
  });

  it("does not count a lease whose holder is certainly dead (a killed worker on this machine)", async () => {
    const runId = await hookedRun("tok-dead");
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    const scope = ownerScope();
    expect(scope, "this test needs Linux (a boot id and a PID namespace)").toBeDefined();
    await source.runs.acquire(runId, `${hostname()}/${dead}/abcd/${scope}`, 60_000);
    const report = await exportTo(file);
    expect(report.counts.runs).toBe(1);
    expect(report.leased).toEqual([]);
  });
});

describe("import", () => {
  it("refuses payloads under a key this process lacks, naming it; --allow-missing-keys imports the bytes", async () => {
    const keyId = randomBytes(8);
    const sealed = new Uint8Array([0x03, ...keyId, ...randomBytes(40)]);
    await hookedRun("tok-key", sealed);
    await exportTo(file);
    const before = await snapshot(dest, []);
    const error = await expectReject(importRuns({ world: dest, path: file, keyIds: [] }), ConfigError);
    expect(error.message).toContain(`key id ${keyId.toString("hex")}`);
    expect(error.message).toContain("STEPWISE_ENCRYPTION_KEY");
    expect(error.message).toContain("Nothing was imported");
    expect(await snapshot(dest, [])).toEqual(before);

    const report = await importRuns({ world: dest, path: file, keyIds: [], allowMissingKeys: true });
    expect(report.imported).toBe(1);
    expect(report.missingKeys).toEqual([keyId.toString("hex")]);
  });

  it("refuses stored console output (step logs) under a key this process lacks, naming it", async () => {
    const keyId = randomBytes(8);
    const sealed = Buffer.from([0x03, ...keyId, ...randomBytes(40)]).toString("base64");
    const runId = await hookedRun("tok-logs");
    await appendNext(source, runId, [
      { type: "step_started", data: { stepId: "step_1", stepName: "s", attempt: 1 } },
      { type: "step_completed", data: { stepId: "step_1", attempt: 1, logs: { sealed, lines: 1 } } },
    ]);
    await exportTo(file);
    const error = await expectReject(importRuns({ world: dest, path: file, keyIds: [] }), ConfigError);
    expect(error.message).toContain(`key id ${keyId.toString("hex")}`);
  });

  it("--dry-run verifies and checks, and writes nothing", async () => {
    await hookedRun("tok-dry");
    await exportTo(file);
    const report = await importRuns({ world: dest, path: file, keyIds: [], dryRun: true });
    expect(report).toMatchObject({ dryRun: true, imported: 0, present: 0 });
    expect((await dest.runs.list()).items).toEqual([]);
  });

  it("refuses the whole file when another run holds one of its hook tokens here, writing nothing", async () => {
    await hookedRun("tok-a");
    await hookedRun("tok-b");
    await exportTo(file);
    const holder = await dest.runs.create(runInput());
    await appendNext(dest, holder.runId, [hookCreated("hook_other", "tok-b")]);
    const before = await snapshot(dest, [holder.runId]);
    const error = await expectReject(importRuns({ world: dest, path: file, keyIds: [] }), ConflictError);
    expect(error.message).toContain(`its hook token "tok-b" is held by run ${holder.runId} here`);
    expect(error.message).toContain("Nothing was imported");
    expect(await snapshot(dest, [holder.runId])).toEqual(before);
    expect((await dest.runs.list()).items).toHaveLength(1);
  });

  it("refuses a file that holds one run twice", async () => {
    await hookedRun("tok-twice");
    await exportTo(file);
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    const body = lines.slice(1, -1);
    const doubled = [lines[0], ...body, ...body].map((line) => `${line}\n`).join("");
    const trailer = JSON.parse(lines.at(-1) as string) as { counts: Record<string, number>; sha256: string };
    for (const key of Object.keys(trailer.counts)) trailer.counts[key] = (trailer.counts[key] ?? 0) * 2;
    trailer.sha256 = createHash("sha256").update(doubled).digest("hex");
    writeFileSync(file, `${doubled}${JSON.stringify(trailer)}\n`);
    const error = await expectReject(importRuns({ world: dest, path: file, keyIds: [] }), ExportFileError);
    expect(error.message).toContain("twice");
    expect((await dest.runs.list()).items).toEqual([]);
  });
});
