/**
 * The payload envelope and encryption at rest: plain (0x01) without a key, AES-256-GCM bound to
 * the run and the payload's place (0x03, key id, IV, tag) with one; per-run keys; rotation (an old
 * key still reads what it wrote); and every way a payload can fail to open — unknown key id, no key
 * at all, another run, another place, a changed or missing byte, a plain or 0x02 payload in a run
 * created encrypted — raises a PayloadDecryptionError naming the run, the place and the key id,
 * never a value. Runs created encrypted by spec version 1 still read their 0x02 payloads.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { SerializationError } from "../../src/errors/runtime.ts";
import { encodeValue } from "../../src/serde/codec.ts";
import { seal } from "../../src/serde/encryption.ts";
import { PayloadDecryptionError } from "../../src/serde/errors.ts";
import { createKeyring, type Keyring, keyringFromEnv, parseEncryptionKey } from "../../src/serde/keys.ts";
import { createPayloadCodec, type PayloadScope, payloadInfo } from "../../src/serde/payload.ts";
import { places } from "../../src/serde/places.ts";

const keyText = () => randomBytes(32).toString("base64");
const ring = (current?: string, ...old: string[]): Keyring =>
  createKeyring(
    current === undefined ? undefined : parseEncryptionKey(current, "current"),
    old.map((text, index) => parseEncryptionKey(text, `old ${index}`)),
  );
const SECRET = "MARKER-d41d8cd98f00b204";
/** Runs as the codec sees them: created without a key, with one (spec 2), with one by spec 1. */
const plainRun = (runId = "wrun_1"): PayloadScope => ({ runId, encrypted: false, specVersion: 2 });
const sealedRun = (runId = "wrun_1"): PayloadScope => ({ runId, encrypted: true, specVersion: 2 });
const AT = places.stepResult("step_1");
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
    const bytes = codec.encode(plainRun(), AT, text);
    expect(bytes[0]).toBe(0x01);
    expect(Buffer.from(bytes.subarray(1)).toString()).toBe(text);
    expect(codec.decode(plainRun(), AT, bytes)).toBe(text);
    expect(codec.keyId).toBeUndefined();
    expect(payloadInfo(bytes)).toEqual({ format: "plain" });
    codec.encode(plainRun(), AT, text);
    expect(onPlaintext).toHaveBeenCalledTimes(2);
  });

  it("says that no key is configured when it meets an encrypted payload", () => {
    const encrypted = createPayloadCodec({ keyring: ring(keyText()) }).encode(sealedRun(), AT, text);
    const codec = createPayloadCodec({ keyring: ring() });
    const error = decryptionError(() => codec.decode(sealedRun(), AT, encrypted));
    expect(error.message).toContain(`encrypted with key id ${error.keyId}`);
    expect(error.message).toContain("it has no key: STEPWISE_ENCRYPTION_KEY is not set");
    expect(error.reason).toBe("missing-key");
    expect(error.place).toBe(AT);
  });

  it("refuses to store anything in clear in a run that was created encrypted", () => {
    const codec = createPayloadCodec({ keyring: ring(), onPlaintext: () => expect.fail("stored in clear") });
    expect(() => codec.encode(sealedRun("wrun_9"), places.hookPayload("hook_1", "inbox_1"), text)).toThrow(
      "Run wrun_9 was created with encryption on, and this process has no STEPWISE_ENCRYPTION_KEY: it cannot store a payload for hook hook_1 (inbox item inbox_1) in clear. Set STEPWISE_ENCRYPTION_KEY to the key the run's other processes use.",
    );
  });
});

describe("with a key", () => {
  const key = keyText();
  const codec = createPayloadCodec({ keyring: ring(key), onPlaintext: () => expect.fail("stored in clear") });
  const keyId = parseEncryptionKey(key, "k").id;

  it("stores 0x03 + key id + IV + ciphertext + tag: 36 bytes more than plain, no plaintext", () => {
    const bytes = codec.encode(sealedRun(), AT, text);
    expect(bytes[0]).toBe(0x03);
    expect(Buffer.from(bytes.subarray(1, 9)).toString("hex")).toBe(keyId);
    expect(bytes.length).toBe(1 + Buffer.byteLength(text) + 36);
    expect(Buffer.from(bytes).includes(SECRET)).toBe(false);
    expect(codec.keyId).toBe(keyId);
    expect(payloadInfo(bytes)).toEqual({ format: "encrypted", keyId, bound: true });
    expect(codec.decode(sealedRun(), AT, bytes)).toBe(text);
  });

  it("uses a fresh IV for every payload", () => {
    const a = Buffer.from(codec.encode(sealedRun(), AT, text));
    const b = Buffer.from(codec.encode(sealedRun(), AT, text));
    expect(a.equals(b)).toBe(false);
    expect(a.subarray(9, 21).equals(b.subarray(9, 21))).toBe(false);
  });

  it("encrypts the empty text and large payloads alike", () => {
    const big = "x".repeat(5_000_000);
    expect(codec.decode(sealedRun(), AT, codec.encode(sealedRun(), AT, ""))).toBe("");
    expect(codec.decode(sealedRun(), AT, codec.encode(sealedRun(), AT, big))).toBe(big);
  });

  it("still reads plain payloads of a run created before the key was set, and encrypts its new ones", () => {
    const plain = createPayloadCodec({ keyring: ring() }).encode(plainRun(), AT, text);
    expect(codec.decode(plainRun(), AT, plain)).toBe(text);
    const later = codec.encode(plainRun(), places.runOutput, text);
    expect(later[0]).toBe(0x03);
    expect(codec.decode(plainRun(), places.runOutput, later)).toBe(text);
  });

  it("a payload only opens under the run it was written for (per-run keys)", () => {
    const bytes = codec.encode(sealedRun("wrun_1"), AT, text);
    const error = decryptionError(() => codec.decode(sealedRun("wrun_2"), AT, bytes));
    expect(error.message).toBe(
      `A payload of run wrun_2 (the result of step step_1) (key id ${keyId}) fails authentication: it was altered, damaged, or moved from another run or another place. Nothing was read from it.`,
    );
    expect(error.runId).toBe("wrun_2");
    expect(error.keyId).toBe(keyId);
    expect(error.reason).toBe("invalid");
  });

  it("a payload only opens at the place it was written for: swaps within a run fail", () => {
    const result1 = codec.encode(sealedRun(), places.stepResult("step_1"), text);
    const otherPlaces = [
      places.stepResult("step_2"),
      places.stepArgs("step_1"),
      places.stepError("step_1"),
      places.runOutput,
      places.runInput,
      places.hookPayload("hook_1", "inbox_1"),
      places.streamChunk("default"),
    ];
    for (const place of otherPlaces) {
      const error = decryptionError(() => codec.decode(sealedRun(), place, result1));
      expect(error.place, place).toBe(place);
      expect(error.message).toContain("fails authentication");
    }
    // Two deliveries to the same hook are bound to their own inbox items.
    const first = codec.encode(sealedRun(), places.hookPayload("hook_1", "inbox_a"), text);
    expect(() => codec.decode(sealedRun(), places.hookPayload("hook_1", "inbox_b"), first)).toThrow(
      PayloadDecryptionError,
    );
  });

  it("a plain payload in a run created encrypted is refused, naming the run and the place", () => {
    const forged = createPayloadCodec({ keyring: ring() }).encode(plainRun(), AT, encodeValue(1_000_000));
    const error = decryptionError(() => codec.decode(sealedRun(), AT, forged));
    expect(error.message).toBe(
      "A payload of run wrun_1 (the result of step step_1) is stored in clear, but the run was created with encryption on. Someone who can write the database replaced it; nothing was read from it. Restore the run's data from a backup.",
    );
    expect(error.place).toBe(AT);
    expect(error.reason).toBe("invalid");
    // Refused whether or not this process has a key: the run's record decides.
    expect(() => createPayloadCodec({ keyring: ring() }).decode(sealedRun(), AT, forged)).toThrow(
      PayloadDecryptionError,
    );
  });

  it("a payload in the older unbound format (0x02) is refused in a run of spec version 2", () => {
    const downgraded = seal(parseEncryptionKey(key, "k"), "wrun_1", 0x02, Buffer.from(text));
    const error = decryptionError(() => codec.decode(sealedRun(), AT, downgraded));
    expect(error.message).toContain("is in the older encrypted format (0x02, not bound to its place)");
    expect(error.place).toBe(AT);
  });

  it("a run created encrypted by spec version 1 still reads its 0x02 payloads, wherever they are", () => {
    const legacy: PayloadScope = { runId: "wrun_1", encrypted: true, specVersion: 1 };
    const old = seal(parseEncryptionKey(key, "k"), "wrun_1", 0x02, Buffer.from(text));
    expect(payloadInfo(old)).toEqual({ format: "encrypted", keyId, bound: false });
    expect(codec.decode(legacy, AT, old)).toBe(text);
    expect(codec.decode(legacy, places.runOutput, old)).toBe(text);
    // ... but not under another run, nor in clear.
    expect(() => codec.decode({ ...legacy, runId: "wrun_2" }, AT, old)).toThrow(PayloadDecryptionError);
    const plain = createPayloadCodec({ keyring: ring() }).encode(plainRun(), AT, text);
    expect(() => codec.decode(legacy, AT, plain)).toThrow(PayloadDecryptionError);
  });

  it("any changed byte fails authentication, never decrypts to garbage", () => {
    const bytes = codec.encode(sealedRun(), AT, text);
    for (let index = 0; index < bytes.length; index++) {
      const changed = Uint8Array.from(bytes);
      changed[index] = (changed[index] ?? 0) ^ 0x01;
      expect(() => codec.decode(sealedRun(), AT, changed), `byte ${index}`).toThrow(PayloadDecryptionError);
    }
  });

  it("a truncated payload is reported as damaged", () => {
    const bytes = codec.encode(sealedRun(), AT, text);
    for (const length of [0, 1, 5, 9, 30, bytes.length - 1]) {
      expect(() => codec.decode(sealedRun(), AT, bytes.subarray(0, length)), `${length}`).toThrow(
        PayloadDecryptionError,
      );
    }
    expect(decryptionError(() => codec.decode(sealedRun(), AT, bytes.subarray(0, 20))).message).toContain(
      "is truncated",
    );
  });

  it("an unknown format byte is a SerializationError saying to upgrade (in a run created in clear)", () => {
    expect(() => codec.decode(plainRun(), AT, Uint8Array.from([9, 1, 2]))).toThrow(
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
    const before = createPayloadCodec({ keyring: ring(first) }).encode(sealedRun(), AT, text);
    const rotated = createPayloadCodec({ keyring: ring(second, first) });
    expect(rotated.decode(sealedRun(), AT, before)).toBe(text);
    const after = rotated.encode(sealedRun(), AT, text);
    expect(payloadInfo(after)).toEqual({ format: "encrypted", keyId: secondId, bound: true });
    expect(createPayloadCodec({ keyring: ring(second) }).decode(sealedRun(), AT, after)).toBe(text);
  });

  it("without the old key, older payloads fail with an error naming the missing key id and the fix", () => {
    const before = createPayloadCodec({ keyring: ring(first) }).encode(sealedRun(), AT, text);
    const error = decryptionError(() =>
      createPayloadCodec({ keyring: ring(second) }).decode(sealedRun(), AT, before),
    );
    expect(error.keyId).toBe(firstId);
    expect(error.message).toBe(
      `A payload of run wrun_1 (the result of step step_1) is encrypted with key id ${firstId}, which this process does not have (it has current ${secondId}, no old keys). Set STEPWISE_ENCRYPTION_KEY to that key, or add it to STEPWISE_ENCRYPTION_OLD_KEYS (comma-separated) if it was rotated out.`,
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
