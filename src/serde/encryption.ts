/**
 * AES-256-GCM for payloads, with a key per run: HKDF-SHA256 derives it from the master key and the
 * run id (`info` = "stepwise/payload/v1" NUL runId), so a payload only opens under the run it was
 * written for, and a leaked run key exposes one run. The sealed form, after the envelope's format
 * byte (see `payload.ts`):
 *
 *   <key id: 8 bytes> <iv: 12 random bytes> <ciphertext> <tag: 16 bytes>
 *
 * The format byte and the key id are authenticated (AAD), and so is the payload's `binding` when
 * the format has one (format 0x03: "stepwise/payload/v2" NUL runId NUL place, see `places.ts`): an
 * altered byte anywhere, or a payload read at another place than it was written for, fails with a
 * `PayloadDecryptionError`, never garbage. Derived run keys are cached (a few thousand runs), and
 * IVs are cut from a buffer of random bytes refilled 6 KB at a time: a `randomBytes` call per
 * payload would cost more than the encryption itself.
 */
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { PayloadDecryptionError } from "./errors.ts";
import { type EncryptionKey, KEY_ENV, KEY_ID_BYTES, type Keyring, OLD_KEYS_ENV } from "./keys.ts";

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Bytes a sealed payload adds to its plaintext (without the format byte). */
export const SEAL_OVERHEAD = KEY_ID_BYTES + IV_BYTES + TAG_BYTES;
const CIPHER = "aes-256-gcm";
const INFO = "stepwise/payload/v1\u0000";
const CACHE_ENTRIES = 4096;

const runKeys = new Map<string, KeyObject>();

function runKey(key: EncryptionKey, runId: string): KeyObject {
  const cacheKey = `${key.id}\u0000${runId}`;
  let derived = runKeys.get(cacheKey);
  if (derived === undefined) {
    const bytes = Buffer.from(hkdfSync("sha256", key.secret, new Uint8Array(0), `${INFO}${runId}`, 32));
    derived = createSecretKey(bytes);
    bytes.fill(0);
    if (runKeys.size >= CACHE_ENTRIES) runKeys.delete(runKeys.keys().next().value as string);
    runKeys.set(cacheKey, derived);
  }
  return derived;
}

let randomPool = Buffer.alloc(0);
let randomOffset = 0;

/** 12 fresh random bytes (never handed out twice). */
function nextIv(): Buffer {
  if (randomOffset + IV_BYTES > randomPool.length) {
    randomPool = randomBytes(IV_BYTES * 512);
    randomOffset = 0;
  }
  randomOffset += IV_BYTES;
  return randomPool.subarray(randomOffset - IV_BYTES, randomOffset);
}

/** The associated data: the envelope's header, then the binding (when the format has one). */
function associatedData(header: Buffer, binding: string | undefined): Buffer {
  return binding === undefined ? header : Buffer.concat([header, Buffer.from(binding, "utf8")]);
}

/**
 * Encrypts `plaintext` for `runId`, after `format` (the envelope's first byte): the whole payload.
 * `binding`, when given, is authenticated too and must be given again, unchanged, to `unseal`.
 */
export function seal(
  key: EncryptionKey,
  runId: string,
  format: number,
  plaintext: Uint8Array,
  binding?: string,
): Uint8Array {
  const iv = nextIv();
  const header = Buffer.alloc(1 + KEY_ID_BYTES);
  header[0] = format;
  header.write(key.id, 1, "hex");
  const cipher = createCipheriv(CIPHER, runKey(key, runId), iv);
  cipher.setAAD(associatedData(header, binding));
  const body = cipher.update(plaintext);
  const tail = cipher.final();
  const out = new Uint8Array(header.length + IV_BYTES + body.length + tail.length + TAG_BYTES);
  out.set(header, 0);
  out.set(iv, header.length);
  out.set(body, header.length + IV_BYTES);
  out.set(tail, header.length + IV_BYTES + body.length);
  out.set(cipher.getAuthTag(), out.length - TAG_BYTES);
  return out;
}

/** The key id a sealed payload names, or undefined when it is too short to name one. */
export function sealedKeyId(payload: Uint8Array): string | undefined {
  if (payload.length < 1 + KEY_ID_BYTES) return undefined;
  return Buffer.from(payload.buffer, payload.byteOffset + 1, KEY_ID_BYTES).toString("hex");
}

function describeKeys(keys: Keyring): string {
  if (keys.ids.length === 0) return `it has no key: ${KEY_ENV} is not set`;
  const old = keys.current === undefined ? keys.ids : keys.ids.slice(1);
  const current = keys.current === undefined ? "no current key" : `current ${keys.current.id}`;
  return `it has ${current}, ${old.length > 0 ? `old ${old.join(", ")}` : "no old keys"}`;
}

/** Where the payload being opened sits, for errors: its run and (when known) its place. */
export interface SealedAt {
  runId: string;
  /** The place the payload is read at (`places.ts`), named in errors. */
  place?: string;
  /** The place in words ("the result of step …"), for messages. */
  described?: string;
}

/**
 * Decrypts a payload written by `seal` for `at.runId`, with the same `binding`.
 * `PayloadDecryptionError` (naming the run, the place and the key id) on any failure.
 */
export function unseal(keys: Keyring, at: SealedAt, payload: Uint8Array, binding?: string): Uint8Array {
  const { runId, place } = at;
  const where = at.described === undefined ? "" : ` (${at.described})`;
  const keyId = sealedKeyId(payload);
  const headerBytes = 1 + KEY_ID_BYTES;
  if (keyId === undefined || payload.length < headerBytes + IV_BYTES + TAG_BYTES) {
    throw new PayloadDecryptionError(
      runId,
      keyId,
      `An encrypted payload of run ${runId}${where} is truncated (${payload.length} bytes): the stored data is damaged.`,
      place,
    );
  }
  const key = keys.get(keyId);
  if (key === undefined) {
    throw new PayloadDecryptionError(
      runId,
      keyId,
      `A payload of run ${runId}${where} is encrypted with key id ${keyId}, which this process does not have (${describeKeys(keys)}). Set ${KEY_ENV} to that key, or add it to ${OLD_KEYS_ENV} (comma-separated) if it was rotated out.`,
      place,
      "missing-key",
    );
  }
  const view = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const decipher = createDecipheriv(
    CIPHER,
    runKey(key, runId),
    view.subarray(headerBytes, headerBytes + IV_BYTES),
  );
  decipher.setAAD(associatedData(view.subarray(0, headerBytes), binding));
  decipher.setAuthTag(view.subarray(view.length - TAG_BYTES));
  try {
    const body = decipher.update(view.subarray(headerBytes + IV_BYTES, view.length - TAG_BYTES));
    return Buffer.concat([body, decipher.final()]);
  } catch {
    const moved =
      binding === undefined ? "copied from another run" : "moved from another run or another place";
    throw new PayloadDecryptionError(
      runId,
      keyId,
      `A payload of run ${runId}${where} (key id ${keyId}) fails authentication: it was altered, damaged, or ${moved}. Nothing was read from it.`,
      place,
    );
  }
}
