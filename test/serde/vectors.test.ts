/**
 * The language-neutral payload vectors (`spec/vectors/`, specified in docs/payloads.md), checked
 * against this implementation: every value vector encodes to exactly its text and its text decodes
 * to the value; every envelope vector is rebuilt byte for byte by an implementation of the
 * document written here from node:crypto alone (HKDF-SHA256, AES-256-GCM, the key id's HMAC),
 * opens with the payload codec, and fails when altered or read at another place. The Python SDK
 * checks the same files.
 *
 * `UPDATE_VECTORS=1 npx vitest run test/serde/vectors.test.ts` (then `npx biome format --write
 * spec/vectors`) writes the files from the list
 * below. Vectors are a contract: change an existing one only together with the format (and
 * `SPEC_VERSION`), never to make a test pass.
 */
import { createCipheriv, createHmac, createSecretKey, hkdfSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeValue, encodeValue } from "../../src/serde/codec.ts";
import { PayloadDecryptionError } from "../../src/serde/errors.ts";
import { createKeyring, parseEncryptionKey } from "../../src/serde/keys.ts";
import { createPayloadCodec } from "../../src/serde/payload.ts";

const dir = new URL("../../spec/vectors/", import.meta.url);

/** A value in the vectors' notation (docs/payloads.md §4): JSON, with `$type` objects for the rest. */
type Tagged = null | boolean | number | string | Tagged[] | { [key: string]: Tagged };

/** The JavaScript value a tagged value stands for. */
function fromTagged(tagged: Tagged): unknown {
  if (tagged === null || typeof tagged !== "object") return tagged;
  if (Array.isArray(tagged)) return tagged.map(fromTagged);
  const type = tagged.$type;
  if (type === undefined)
    return Object.fromEntries(Object.entries(tagged).map(([key, value]) => [key, fromTagged(value)]));
  const value = tagged.value as string;
  switch (type) {
    case "undefined":
      return undefined;
    case "number":
      return Number(value === "-0" ? "-0" : value);
    case "bigint":
      return BigInt(value);
    case "date":
      return new Date(value);
    case "map":
      return new Map(
        (tagged.entries as Tagged[][]).map(([k, v]) => [fromTagged(k ?? null), fromTagged(v ?? null)]),
      );
    case "set":
      return new Set((tagged.values as Tagged[]).map(fromTagged));
    case "bytes":
      return new Uint8Array(Buffer.from(tagged.base64 as string, "base64"));
    case "url":
      return new URL(value);
    case "regexp":
      return new RegExp(tagged.source as string, tagged.flags as string);
    case "error": {
      // A built-in error class by its name (its name is then not an own property), else an Error.
      const Builtin = (globalThis as unknown as Record<string, ErrorConstructor | undefined>)[
        tagged.name as string
      ];
      const error =
        Builtin !== undefined && Builtin.prototype instanceof Error
          ? new Builtin(tagged.message as string)
          : new Error(tagged.message as string);
      delete error.stack;
      return error;
    }
    default:
      throw new Error(`unknown $type ${String(type)}`);
  }
}

const VALUES: { name: string; value: Tagged }[] = [
  { name: "null", value: null },
  { name: "true", value: true },
  { name: "integer", value: 42 },
  { name: "float", value: 1.5 },
  { name: "string (non-ASCII)", value: "héllo ✓ 🚀" },
  { name: "empty string", value: "" },
  { name: "array", value: [1, "two", null, false] },
  { name: "object", value: { a: [1, { b: true }], c: "d" } },
  { name: "empty object", value: {} },
  { name: "undefined", value: { $type: "undefined" } },
  { name: "undefined in an object", value: { present: 1, absent: { $type: "undefined" } } },
  { name: "NaN", value: { $type: "number", value: "NaN" } },
  { name: "Infinity", value: { $type: "number", value: "Infinity" } },
  { name: "-Infinity", value: { $type: "number", value: "-Infinity" } },
  { name: "-0", value: { $type: "number", value: "-0" } },
  { name: "bigint", value: { $type: "bigint", value: "12345678901234567890" } },
  { name: "date", value: { $type: "date", value: "2026-01-02T03:04:05.678Z" } },
  {
    name: "map",
    value: {
      $type: "map",
      entries: [
        ["a", 1],
        [2, { $type: "set", values: ["x"] }],
      ],
    },
  },
  { name: "set", value: { $type: "set", values: [1, "x"] } },
  { name: "bytes (Uint8Array)", value: { $type: "bytes", base64: "AQL/" } },
  { name: "url", value: { $type: "url", value: "https://example.com/a?b=1" } },
  { name: "regexp", value: { $type: "regexp", source: "ab+c", flags: "gi" } },
  { name: "error (no stack)", value: { $type: "error", name: "TypeError", message: "boom" } },
  { name: "repeated string", value: ["same", "same", { k: "same" }] },
];

/** The fixed test key of the envelope vectors: 32 bytes, never a real key. */
const TEST_KEY_HEX = "030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dc";
const ENVELOPES: { name: string; runId: string; place: string; text: string; iv: string; format: number }[] =
  [
    { name: "plain", runId: "wrun_vector_1", place: "run:input", text: '[["a",1]]', iv: "", format: 1 },
    {
      name: "encrypted run input",
      runId: "wrun_vector_1",
      place: "run:input",
      text: '[["a",1]]',
      iv: "0f0e0d0c0b0a090807060504",
      format: 3,
    },
    {
      name: "encrypted step result",
      runId: "wrun_vector_2",
      place: "step:step_01ABC:result",
      text: '[{"ok":1},true]',
      iv: "a1a2a3a4a5a6a7a8a9aaabac",
      format: 3,
    },
    {
      name: "encrypted empty-looking text",
      runId: "wrun_vector_3",
      place: "stream:out",
      text: '[""]',
      iv: "000000000000000000000001",
      format: 3,
    },
  ];

interface EnvelopeVector {
  name: string;
  runId: string;
  place: string;
  text: string;
  format: number;
  /** hex; the IV an encrypted vector was sealed with (a writer picks a fresh random one). */
  iv?: string;
  /** hex: the AES-256-GCM key HKDF derives for the run. */
  runKey?: string;
  /** hex: the additional authenticated data. */
  aad?: string;
  /** base64: the stored bytes. */
  bytes: string;
}

/** docs/payloads.md §5, from node:crypto alone. */
function referenceEnvelope(key: Buffer, vector: Omit<EnvelopeVector, "bytes">): EnvelopeVector {
  const text = Buffer.from(vector.text, "utf8");
  if (vector.format === 1)
    return { ...vector, bytes: Buffer.concat([Buffer.from([1]), text]).toString("base64") };
  const keyId = createHmac("sha256", key).update("stepwise/key-id/v1").digest().subarray(0, 8);
  const runKey = Buffer.from(
    hkdfSync("sha256", key, Buffer.alloc(0), `stepwise/payload/v1\u0000${vector.runId}`, 32),
  );
  const header = Buffer.concat([Buffer.from([vector.format]), keyId]);
  const aad = Buffer.concat([
    header,
    Buffer.from(`stepwise/payload/v2\u0000${vector.runId}\u0000${vector.place}`, "utf8"),
  ]);
  const iv = Buffer.from(vector.iv ?? "", "hex");
  const cipher = createCipheriv("aes-256-gcm", createSecretKey(runKey), iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(text), cipher.final()]);
  const bytes = Buffer.concat([header, iv, body, cipher.getAuthTag()]);
  return {
    ...vector,
    runKey: runKey.toString("hex"),
    aad: aad.toString("hex"),
    bytes: bytes.toString("base64"),
  };
}

const read = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, dir), "utf8")) as T;

const writing = process.env.UPDATE_VECTORS !== undefined;
if (writing) {
  it("writes the vectors", () => {
    const values = VALUES.map(({ name, value }) => ({ name, value, text: encodeValue(fromTagged(value)) }));
    writeFileSync(new URL("values.json", dir), `${JSON.stringify({ version: 1, values }, null, 2)}\n`);
    const key = Buffer.from(TEST_KEY_HEX, "hex");
    const keyId = createHmac("sha256", key)
      .update("stepwise/key-id/v1")
      .digest()
      .subarray(0, 8)
      .toString("hex");
    const envelopes = ENVELOPES.map(({ iv, ...vector }) =>
      referenceEnvelope(key, vector.format === 1 ? vector : { ...vector, iv }),
    );
    writeFileSync(
      new URL("envelopes.json", dir),
      `${JSON.stringify({ version: 1, key: { hex: TEST_KEY_HEX, id: keyId }, envelopes }, null, 2)}\n`,
    );
  });
}

// While writing them, the files may not exist yet: they are checked on the next run.
describe.skipIf(writing)("value vectors (spec/vectors/values.json)", () => {
  const { values } = writing
    ? { values: [] }
    : read<{ values: { name: string; value: Tagged; text: string }[] }>("values.json");
  it("has them all", () => expect(values.length).toBeGreaterThanOrEqual(VALUES.length));
  for (const vector of values) {
    it(`${vector.name}: encodes to its text and decodes back`, () => {
      const value = fromTagged(vector.value);
      expect(encodeValue(value)).toBe(vector.text);
      const decoded = decodeValue(vector.text);
      if (value instanceof Error) {
        expect(decoded).toBeInstanceOf(Error);
        expect({ name: (decoded as Error).name, message: (decoded as Error).message }).toEqual({
          name: value.name,
          message: value.message,
        });
      } else {
        expect(decoded).toEqual(value);
        if (Object.is(value, -0)) expect(Object.is(decoded, -0)).toBe(true);
      }
    });
  }
});

describe.skipIf(writing)("envelope vectors (spec/vectors/envelopes.json)", () => {
  const file = writing
    ? { key: { hex: TEST_KEY_HEX, id: "" }, envelopes: [] }
    : read<{ key: { hex: string; id: string }; envelopes: EnvelopeVector[] }>("envelopes.json");
  const key = Buffer.from(file.key.hex, "hex");
  const codec = createPayloadCodec({
    keyring: createKeyring(parseEncryptionKey(file.key.hex, "test key"), []),
  });

  it("names the test key by its id", () => {
    expect(parseEncryptionKey(file.key.hex, "test key").id).toBe(file.key.id);
  });
  for (const vector of file.envelopes) {
    const scope = { runId: vector.runId, encrypted: vector.format !== 1, specVersion: 5 };
    it(`${vector.name}: rebuilt byte for byte from the document, and opened by the codec`, () => {
      const { bytes, ...rest } = vector;
      expect(referenceEnvelope(key, rest).bytes).toBe(bytes);
      const stored = new Uint8Array(Buffer.from(bytes, "base64"));
      expect(codec.decode(scope, vector.place, stored)).toBe(vector.text);
      // What the codec writes itself opens the same way (its IV is random, so only the shape is fixed).
      const written = codec.encode(scope, vector.place, vector.text);
      if (vector.format === 1) return;
      expect(written.length).toBe(stored.length);
      expect(Buffer.from(written.subarray(0, 9)).toString("hex")).toBe(`03${file.key.id}`);
    });
    if (vector.format !== 1) {
      it(`${vector.name}: refused when altered or read at another place`, () => {
        const stored = new Uint8Array(Buffer.from(vector.bytes, "base64"));
        const flipped = new Uint8Array(stored);
        flipped[20] = (flipped[20] ?? 0) ^ 1;
        expect(() => codec.decode(scope, vector.place, flipped)).toThrow(PayloadDecryptionError);
        expect(() => codec.decode(scope, `${vector.place}x`, stored)).toThrow(PayloadDecryptionError);
        expect(() => codec.decode({ ...scope, runId: `${vector.runId}x` }, vector.place, stored)).toThrow(
          PayloadDecryptionError,
        );
      });
    }
  }
});
