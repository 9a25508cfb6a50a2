/**
 * The payload envelope and encryption at rest: plain (0x01) without a key, AES-256-GCM (0x02, key
 * id, IV, tag) with one; per-run keys; rotation (an old key still reads what it wrote); and every
 * way an encrypted payload can fail to open — unknown key id, no key at all, another run, a changed
 * or missing byte — raises a PayloadDecryptionError naming the run and the key id, never garbage.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { SerializationError } from "../../src/errors/runtime.ts";
import { encodeValue } from "../../src/serde/codec.ts";
import { PayloadDecryptionError } from "../../src/serde/errors.ts";
import { createKeyring, type Keyring, keyringFromEnv, parseEncryptionKey } from "../../src/serde/keys.ts";
import { createPayloadCodec, payloadInfo } from "../../src/serde/payload.ts";

const keyText = () => randomBytes(32).toString("base64");
const ring = (current?: string, ...old: string[]): Keyring =>
  createKeyring(
    current === undefined ? undefined : parseEncryptionKey(current, "current"),
    old.map((text, index) => parseEncryptionKey(text, `old ${index}`)),
  );
const SECRET = "MARKER-d41d8cd98f00b204";
const text = encodeValue({ card: SECRET, amount: 42n, at: new Date(5) });

function decryptionError(fn: () => unknown): PayloadDecryptionError {
  try {
    fn();
  } catch (error) {
    expect(PayloadDecryptionError.is(error)).toBe(true);
    expect(SerializationError.is(error)).toBe(true);
    return error as PayloadDecryptionError;
  }
  throw new Error("expected a PayloadDecryptionError");
}

describe("without a key", () => {
  it("stores plain payloads (0x01 + the text) and reports each plain encode", () => {
    const onPlaintext = vi.fn();
    const codec = createPayloadCodec({ keyring: ring(), onPlaintext });
    const bytes = codec.encode("wrun_1", text);
    expect(bytes[0]).toBe(0x01);
    expect(Buffer.from(bytes.subarray(1)).toString()).toBe(text);
    expect(codec.decode("wrun_1", bytes)).toBe(text);
    expect(codec.keyId).toBeUndefined();
    expect(payloadInfo(bytes)).toEqual({ format: "plain" });
    codec.encode("wrun_1", text);
    expect(onPlaintext).toHaveBeenCalledTimes(2);
  });

  it("says that no key is configured when it meets an encrypted payload", () => {
    const encrypted = createPayloadCodec({ keyring: ring(keyText()) }).encode("wrun_1", text);
    const error = decryptionError(() => createPayloadCodec({ keyring: ring() }).decode("wrun_1", encrypted));
    expect(error.message).toContain(`encrypted with key id ${error.keyId}`);
    expect(error.message).toContain("it has no key: STEPWISE_ENCRYPTION_KEY is not set");
  });
});

describe("with a key", () => {
  const key = keyText();
  const codec = createPayloadCodec({ keyring: ring(key), onPlaintext: () => expect.fail("stored in clear") });
  const keyId = parseEncryptionKey(key, "k").id;

  it("stores 0x02 + key id + IV + ciphertext + tag: 36 bytes more than plain, no plaintext", () => {
    const bytes = codec.encode("wrun_1", text);
    expect(bytes[0]).toBe(0x02);
    expect(Buffer.from(bytes.subarray(1, 9)).toString("hex")).toBe(keyId);
    expect(bytes.length).toBe(1 + Buffer.byteLength(text) + 36);
    expect(Buffer.from(bytes).includes(SECRET)).toBe(false);
    expect(codec.keyId).toBe(keyId);
    expect(payloadInfo(bytes)).toEqual({ format: "encrypted", keyId });
    expect(codec.decode("wrun_1", bytes)).toBe(text);
  });

  it("uses a fresh IV for every payload", () => {
    const a = Buffer.from(codec.encode("wrun_1", text));
    const b = Buffer.from(codec.encode("wrun_1", text));
    expect(a.equals(b)).toBe(false);
    expect(a.subarray(9, 21).equals(b.subarray(9, 21))).toBe(false);
  });

  it("encrypts the empty text and large payloads alike", () => {
    const big = "x".repeat(5_000_000);
    expect(codec.decode("wrun_1", codec.encode("wrun_1", ""))).toBe("");
    expect(codec.decode("wrun_1", codec.encode("wrun_1", big))).toBe(big);
  });

  it("still reads plain payloads written before the key was set", () => {
    const plain = createPayloadCodec({ keyring: ring() }).encode("wrun_1", text);
    expect(codec.decode("wrun_1", plain)).toBe(text);
  });

  it("a payload only opens under the run it was written for (per-run keys)", () => {
    const bytes = codec.encode("wrun_1", text);
    const error = decryptionError(() => codec.decode("wrun_2", bytes));
    expect(error.message).toBe(
      `A payload of run wrun_2 (key id ${keyId}) fails authentication: it was altered, damaged, or copied from another run. Nothing was read from it.`,
    );
    expect(error.runId).toBe("wrun_2");
    expect(error.keyId).toBe(keyId);
  });

  it("any changed byte fails authentication, never decrypts to garbage", () => {
    const bytes = codec.encode("wrun_1", text);
    for (let index = 1; index < bytes.length; index++) {
      const changed = Uint8Array.from(bytes);
      changed[index] = (changed[index] ?? 0) ^ 0x01;
      expect(() => codec.decode("wrun_1", changed), `byte ${index}`).toThrow(PayloadDecryptionError);
    }
  });

  it("a truncated payload is reported as damaged", () => {
    const bytes = codec.encode("wrun_1", text);
    for (const length of [1, 5, 9, 30, bytes.length - 1]) {
      expect(() => codec.decode("wrun_1", bytes.subarray(0, length))).toThrow(PayloadDecryptionError);
    }
    expect(decryptionError(() => codec.decode("wrun_1", bytes.subarray(0, 20))).message).toContain(
      "is truncated",
    );
  });

  it("an unknown format byte is a SerializationError saying to upgrade", () => {
    expect(() => codec.decode("wrun_1", Uint8Array.from([9, 1, 2]))).toThrow(
      /unknown format \(first byte 9\)/,
    );
  });
});

describe("rotation", () => {
  const first = keyText();
  const second = keyText();
  const firstId = parseEncryptionKey(first, "k").id;
  const secondId = parseEncryptionKey(second, "k").id;

  it("a new current key with the old one in the old keys reads both; writes with the new one", () => {
    const before = createPayloadCodec({ keyring: ring(first) }).encode("wrun_1", text);
    const rotated = createPayloadCodec({ keyring: ring(second, first) });
    expect(rotated.decode("wrun_1", before)).toBe(text);
    const after = rotated.encode("wrun_1", text);
    expect(payloadInfo(after)).toEqual({ format: "encrypted", keyId: secondId });
    expect(createPayloadCodec({ keyring: ring(second) }).decode("wrun_1", after)).toBe(text);
  });

  it("without the old key, older payloads fail with an error naming the missing key id and the fix", () => {
    const before = createPayloadCodec({ keyring: ring(first) }).encode("wrun_1", text);
    const error = decryptionError(() =>
      createPayloadCodec({ keyring: ring(second) }).decode("wrun_1", before),
    );
    expect(error.keyId).toBe(firstId);
    expect(error.message).toBe(
      `A payload of run wrun_1 is encrypted with key id ${firstId}, which this process does not have (it has current ${secondId}, no old keys). Set STEPWISE_ENCRYPTION_KEY to that key, or add it to STEPWISE_ENCRYPTION_OLD_KEYS (comma-separated) if it was rotated out.`,
    );
  });

  it("reads the keys from the environment by default", () => {
    const saved = { ...process.env };
    try {
      process.env.STEPWISE_ENCRYPTION_KEY = second;
      process.env.STEPWISE_ENCRYPTION_OLD_KEYS = first;
      const codec = createPayloadCodec();
      expect(codec.keyId).toBe(secondId);
      expect(keyringFromEnv().ids).toEqual([secondId, firstId]);
    } finally {
      process.env.STEPWISE_ENCRYPTION_KEY = saved.STEPWISE_ENCRYPTION_KEY;
      process.env.STEPWISE_ENCRYPTION_OLD_KEYS = saved.STEPWISE_ENCRYPTION_OLD_KEYS;
      if (saved.STEPWISE_ENCRYPTION_KEY === undefined) delete process.env.STEPWISE_ENCRYPTION_KEY;
      if (saved.STEPWISE_ENCRYPTION_OLD_KEYS === undefined) delete process.env.STEPWISE_ENCRYPTION_OLD_KEYS;
    }
  });
});
