/**
 * `inspect --decrypt` leaves an audit trail of what happened, not only of what was attempted: the
 * record written BEFORE decrypting is followed by a second one that refers to it and says whether
 * decrypting succeeded (and how many payloads) or failed (and why). Real encryption, on a real
 * local World: a run written under one key, read with it and with another.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inspect } from "../../src/ops/inspect.ts";
import { SPEC_VERSION } from "../../src/runtime/version.ts";
import { encodeValue } from "../../src/serde/codec.ts";
import { PayloadDecryptionError } from "../../src/serde/errors.ts";
import { createKeyring, parseEncryptionKey } from "../../src/serde/keys.ts";
import { createPayloadCodec, type PayloadCodec } from "../../src/serde/payload.ts";
import { places } from "../../src/serde/places.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";

const codecWith = (key: string): PayloadCodec =>
  createPayloadCodec({ keyring: createKeyring(parseEncryptionKey(key, "current"), []) });
const actor = { user: "ada", host: "ops-01", pid: 4242 };

let dataDir: string;
let world: World;
let runId: string;
const writerKey = randomBytes(32).toString("base64");
const otherKey = randomBytes(32).toString("base64");

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "stepwise-audit-"));
  world = createLocalWorld({ dataDir });
  const codec = codecWith(writerKey);
  runId = "wrun_01AUDITOUTCOMETEST0000000";
  const scope = { runId, encrypted: true, specVersion: SPEC_VERSION };
  await world.runs.create({
    runId,
    workflowName: "workflow//x//y",
    specVersion: SPEC_VERSION,
    seed: "s",
    encrypted: true,
    input: codec.encode(scope, places.runInput, encodeValue(["S3CR3T-INPUT"])),
  });
  await world.events.append({
    runId,
    expectedSeq: 1,
    events: [
      { type: "run_started", data: {} },
      {
        type: "run_completed",
        data: {},
        payload: codec.encode(scope, places.runOutput, encodeValue("S3CR3T-OUTPUT")),
      },
    ],
  });
});
afterEach(async () => {
  await world.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("inspect --decrypt records how decrypting ended", () => {
  it("a decryption that fails leaves the attempt and a failed outcome that says why", async () => {
    let error: unknown;
    try {
      await inspect(world, codecWith(otherKey), "runs", {
        id: runId,
        decrypt: true,
        reason: "ticket 7",
        actor,
      });
    } catch (caught) {
      error = caught;
    }
    expect(PayloadDecryptionError.is(error)).toBe(true);
    const { items } = await world.audit.list({ runId });
    expect(items).toHaveLength(2);
    const [outcome, attempt] = items;
    expect(attempt).toMatchObject({
      action: "decrypt",
      resource: "runs",
      runIds: [runId],
      reason: "ticket 7",
      actor,
    });
    expect(attempt?.outcome).toBeUndefined();
    expect(outcome).toMatchObject({
      action: "decrypt",
      resource: "runs",
      runIds: [runId],
      actor,
      refersTo: attempt?.auditId,
      outcome: "failed",
    });
    expect(outcome?.detail).toBe(`PayloadDecryptionError (PAYLOAD_DECRYPTION): ${(error as Error).message}`);
    expect(outcome?.detail).toContain(`run ${runId}`);
  });

  it("a decryption that succeeds leaves the attempt and a succeeded outcome with the count", async () => {
    const result = await inspect(world, codecWith(writerKey), "runs", { id: runId, decrypt: true, actor });
    expect(JSON.stringify(result.rows)).toContain("S3CR3T-OUTPUT");
    const { items } = await world.audit.list({ runId });
    expect(items.map((entry) => entry.auditId)).toEqual([
      result.auditOutcome?.auditId,
      result.audit?.auditId,
    ]);
    expect(result.auditOutcome).toMatchObject({
      refersTo: result.audit?.auditId,
      outcome: "succeeded",
      detail: "2 encrypted payloads decrypted",
    });
    expect((await inspect(world, codecWith(writerKey), "audit", { id: runId })).table).toMatch(
      /succeeded \(of audit_\w+\): 2 encrypted payloads decrypted/,
    );
  });

  it("without --decrypt nothing is recorded", async () => {
    await inspect(world, codecWith(otherKey), "runs", { id: runId });
    expect((await world.audit.list()).items).toEqual([]);
  });
});
