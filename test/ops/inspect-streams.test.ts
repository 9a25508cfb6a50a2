/**
 * `inspect streams`: a run's streams and one stream's chunks, decoded like every payload —
 * `<encrypted>` without `--decrypt`; with it, an audit record first and its outcome after, also
 * when following is stopped (Ctrl-C is an aborted signal). Following wakes on a new chunk and
 * ends when the stream closes. Real encryption on a real local World.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ENCRYPTED_PAYLOAD } from "../../src/ops/inspect.ts";
import { listStreams, readStream, type StreamChunkRow } from "../../src/ops/inspect-streams.ts";
import { SPEC_VERSION } from "../../src/runtime/version.ts";
import { encodeValue } from "../../src/serde/codec.ts";
import { createKeyring, parseEncryptionKey } from "../../src/serde/keys.ts";
import { createPayloadCodec, type PayloadCodec } from "../../src/serde/payload.ts";
import { places } from "../../src/serde/places.ts";
import type { World } from "../../src/world/types.ts";
import { createLocalWorld } from "../../src/worlds/local/index.ts";

const key = randomBytes(32).toString("base64");
const codec: PayloadCodec = createPayloadCodec({
  keyring: createKeyring(parseEncryptionKey(key, "current"), []),
});
const actor = { user: "ada", host: "ops-01", pid: 4242 };
const runId = "wrun_01STREAMINSPECT000000000";
const scope = { runId, encrypted: true, specVersion: SPEC_VERSION };
const chunk = (value: unknown) => codec.encode(scope, places.streamChunk("default"), encodeValue(value));

let dir: string;
let world: World;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "stepwise-inspect-streams-"));
  world = createLocalWorld({ dataDir: dir });
  await world.runs.create({
    runId,
    workflowName: "workflow//x.ts//talk",
    specVersion: SPEC_VERSION,
    seed: "s",
    encrypted: true,
    input: codec.encode(scope, places.runInput, encodeValue([])),
  });
  await world.events.append({ runId, expectedSeq: 1, events: [{ type: "run_started", data: {} }] });
  await world.streams.write(runId, "default", [chunk("S3CR3T-0"), chunk({ n: 1 })]);
});
afterEach(async () => {
  await world.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("inspect streams", () => {
  it("lists a run's streams", async () => {
    const listed = await listStreams(world, runId);
    expect(listed.rows).toEqual([{ runId, name: "default", length: 2, closed: false }]);
    expect(listed.table).toMatch(/default\s+2\s+no/);
  });

  it("shows chunks as <encrypted> without --decrypt, and records nothing", async () => {
    const rows: StreamChunkRow[] = [];
    const result = await readStream(world, codec, runId, "default", { onChunk: (row) => rows.push(row) });
    expect(result).toEqual({ chunks: 2, end: "read" });
    expect(rows.map((row) => row.value)).toEqual([ENCRYPTED_PAYLOAD, ENCRYPTED_PAYLOAD]);
    expect(rows[0]?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await world.audit.list()).items).toEqual([]);
  });

  it("decrypts after recording who reads, and records how it ended", async () => {
    const rows: StreamChunkRow[] = [];
    const result = await readStream(world, codec, runId, "default", {
      decrypt: true,
      reason: "ticket 9",
      actor,
      onChunk: (row) => rows.push(row),
    });
    expect(rows.map((row) => row.value)).toEqual(["S3CR3T-0", { n: 1 }]);
    expect(result.audit).toMatchObject({ resource: "streams", runIds: [runId], reason: "ticket 9", actor });
    expect(result.auditOutcome).toMatchObject({
      refersTo: result.audit?.auditId,
      outcome: "succeeded",
      detail: "2 encrypted payloads decrypted",
    });
  });

  it("follows new chunks until the stream closes", async () => {
    const rows: StreamChunkRow[] = [];
    const reading = readStream(world, codec, runId, "default", {
      follow: true,
      decrypt: true,
      actor,
      onChunk: (row) => rows.push(row),
    });
    while (rows.length < 2) await new Promise((r) => setTimeout(r, 10));
    await world.streams.write(runId, "default", [chunk("late")]);
    while (rows.length < 3) await new Promise((r) => setTimeout(r, 10));
    await world.streams.write(runId, "default", [], { close: true });
    const result = await reading;
    expect(result.end).toBe("closed");
    expect(rows.map((row) => row.value)).toEqual(["S3CR3T-0", { n: 1 }, "late"]);
  });

  it("stops following when aborted (Ctrl-C), and still records the outcome", async () => {
    const stop = new AbortController();
    const rows: StreamChunkRow[] = [];
    const reading = readStream(world, codec, runId, "default", {
      follow: true,
      decrypt: true,
      actor,
      signal: stop.signal,
      onChunk: (row) => rows.push(row),
    });
    while (rows.length < 2) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    const result = await reading;
    expect(result.end).toBe("aborted");
    expect(result.auditOutcome).toMatchObject({
      outcome: "succeeded",
      detail: "2 encrypted payloads decrypted",
    });
  });

  it("names the run's streams when the one asked for does not exist", async () => {
    await expect(readStream(world, codec, runId, "nope", { onChunk: () => {} })).rejects.toThrow(
      `Run ${runId} has no stream named "nope". Its streams: default.`,
    );
  });
});
