/**
 * Stored workflow code (`runtime/bundles.ts`) through the payload codec: in clear without a key,
 * encrypted (bound to its hash) with one, a clear copy encrypted in place by the first process
 * with a key that stores it, copies from before envelopes still read; and what is refused: code
 * that does not hash to its hash, an encrypted copy moved under another hash or altered, and one
 * under a key this process does not have.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  BUNDLE_PLACE,
  BundleIntegrityError,
  bundleCode,
  bundleScope,
  storeBundle,
} from "../../src/runtime/bundles.ts";
import { bundleHash, type WorkflowBundle } from "../../src/runtime/registry.ts";
import { PayloadDecryptionError } from "../../src/serde/errors.ts";
import { keyringFromEnv } from "../../src/serde/keys.ts";
import { createPayloadCodec, payloadInfo } from "../../src/serde/payload.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";

const KEY = randomBytes(32).toString("base64");
const OTHER = randomBytes(32).toString("base64");
const clear = createPayloadCodec({ keyring: keyringFromEnv({}) });
const keyed = createPayloadCodec({ keyring: keyringFromEnv({ STEPWISE_ENCRYPTION_KEY: KEY }) });
const otherKey = createPayloadCodec({ keyring: keyringFromEnv({ STEPWISE_ENCRYPTION_KEY: OTHER }) });

function bundle(code: string): WorkflowBundle {
  // Only what storing reads: no compiled script.
  return {
    hash: bundleHash(code),
    code,
    filename: "order.ts.bundle.js",
    workflowIds: ["w"],
  } as unknown as WorkflowBundle;
}

describe("stored workflow code", () => {
  it("is stored in clear without a key and encrypted with one, and reads back either way", async () => {
    const plainWorld = createMemoryWorld();
    const one = bundle("globalThis.one = 1;");
    await storeBundle(plainWorld, one, clear);
    const plain = await plainWorld.bundles.get(one.hash);
    expect(payloadInfo(plain.code)).toEqual({ format: "plain" });
    expect(bundleCode(plain, clear)).toBe(one.code);

    const keyedWorld = createMemoryWorld();
    await storeBundle(keyedWorld, one, keyed);
    const sealed = await keyedWorld.bundles.get(one.hash);
    expect(payloadInfo(sealed.code)).toMatchObject({ format: "encrypted", keyId: keyed.keyId });
    expect(Buffer.from(sealed.code).includes(Buffer.from("globalThis.one"))).toBe(false);
    expect(bundleCode(sealed, keyed)).toBe(one.code);
  });

  it("a copy stored in clear before a key was set is encrypted by the next process with a key", async () => {
    const world = createMemoryWorld();
    const two = bundle("globalThis.two = 2;");
    await storeBundle(world, two, clear);
    await storeBundle(world, two, keyed);
    const stored = await world.bundles.get(two.hash);
    expect(payloadInfo(stored.code)).toMatchObject({ format: "encrypted", keyId: keyed.keyId });
    expect(bundleCode(stored, keyed)).toBe(two.code);
  });

  it("reads copies stored before envelopes (raw UTF-8)", async () => {
    const world = createMemoryWorld();
    const three = bundle("globalThis.three = 3;");
    const raw = new TextEncoder().encode(three.code);
    await world.bundles.put({ hash: three.hash, filename: three.filename, workflowIds: ["w"], code: raw });
    expect(bundleCode(await world.bundles.get(three.hash), keyed)).toBe(three.code);
  });

  it("refuses code that does not hash to its hash, a sealed copy moved or altered, and a missing key", async () => {
    const world = createMemoryWorld();
    const real = bundle("globalThis.real = 1;");
    const forged = "globalThis.forged = 1;";
    const code = clear.encode(bundleScope(real.hash), BUNDLE_PLACE, forged);
    await world.bundles.put({ hash: real.hash, filename: real.filename, workflowIds: ["w"], code });
    const stored = await world.bundles.get(real.hash);
    expect(() => bundleCode(stored, clear)).toThrow(BundleIntegrityError);

    const sealedWorld = createMemoryWorld();
    const other = bundle("globalThis.other = 1;");
    await storeBundle(sealedWorld, real, keyed);
    await storeBundle(sealedWorld, other, keyed);
    const sealed = await sealedWorld.bundles.get(real.hash);
    // Moved under another version's hash: the binding fails before any hash is computed.
    expect(() => bundleCode({ ...sealed, hash: other.hash }, keyed)).toThrow(PayloadDecryptionError);
    const flipped = new Uint8Array(sealed.code);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    expect(() => bundleCode({ ...sealed, code: flipped }, keyed)).toThrow(PayloadDecryptionError);
    expect(() => bundleCode(sealed, otherKey)).toThrow(/key/);
  });
});
