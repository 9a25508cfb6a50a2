/**
 * Encryption keys from the environment. `STEPWISE_ENCRYPTION_KEY` is the current key (every new
 * payload is encrypted with it); `STEPWISE_ENCRYPTION_OLD_KEYS` lists earlier keys, comma-separated,
 * which only decrypt. A key is 32 random bytes written as base64 (44 characters with padding, 43
 * without; the URL-safe alphabet works too) or hex (64 characters): `openssl rand -base64 32`.
 * Anything else, or bytes that are plainly not random (a repeated pattern, printable text), is a
 * `ConfigError` that says how to make a key. An empty variable counts as unset.
 *
 * Each key has an id: the first 8 bytes of HMAC-SHA256(key, "stepwise/key-id/v1"), in hex. It is
 * written into every payload the key encrypts, so after a rotation each payload names the key it
 * needs, and the id can be shown and logged without revealing anything about the key.
 */
import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { ConfigError } from "../errors/runtime.ts";

export const KEY_ENV = "STEPWISE_ENCRYPTION_KEY";
export const OLD_KEYS_ENV = "STEPWISE_ENCRYPTION_OLD_KEYS";
export const KEY_BYTES = 32;
export const KEY_ID_BYTES = 8;
export const GENERATE_KEY_HINT = "Generate one with: openssl rand -base64 32";

/** One master key: its id and its secret (never printed). */
export interface EncryptionKey {
  /** 16 hex digits. */
  readonly id: string;
  readonly secret: KeyObject;
}

/** The keys a process holds: the one that encrypts, and every one that decrypts. */
export interface Keyring {
  /** Encrypts new payloads; undefined when payloads are stored in clear. */
  readonly current: EncryptionKey | undefined;
  /** The key with this id (current or old), if configured. */
  get(keyId: string): EncryptionKey | undefined;
  /** Every configured key id, current first. */
  readonly ids: readonly string[];
}

const HEX = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]{43}=?$/;
const BASE64URL = /^[A-Za-z0-9_-]{43}=?$/;

function decodeKeyText(text: string): Buffer | undefined {
  if (HEX.test(text)) return Buffer.from(text, "hex");
  if (BASE64.test(text)) return Buffer.from(text, "base64");
  if (BASE64URL.test(text)) return Buffer.from(text, "base64url");
  return undefined;
}

/** Why 32 bytes are not a usable key, or undefined when they look random. */
function weakness(bytes: Buffer): string | undefined {
  const distinct = new Set(bytes).size;
  if (distinct < 16) {
    return `its ${KEY_BYTES} bytes take only ${distinct} distinct value(s), which random bytes practically never do (it looks like a pattern or a placeholder)`;
  }
  if (bytes.every((b) => b >= 0x20 && b < 0x7f)) {
    return "its bytes are all printable characters: it is text (a password?), not random bytes";
  }
  return undefined;
}

/** The id of a key: 16 hex digits that name it without revealing it. */
export function keyIdOf(secret: KeyObject): string {
  return createHmac("sha256", secret)
    .update("stepwise/key-id/v1")
    .digest()
    .subarray(0, KEY_ID_BYTES)
    .toString("hex");
}

/**
 * Parses one key. `source` names where it came from for the error (`STEPWISE_ENCRYPTION_KEY`, or
 * `STEPWISE_ENCRYPTION_OLD_KEYS entry 2`). `ConfigError` when malformed or weak; the message never
 * repeats the key.
 */
export function parseEncryptionKey(text: string, source: string): EncryptionKey {
  const trimmed = text.trim();
  const bytes = decodeKeyText(trimmed);
  if (bytes === undefined || bytes.length !== KEY_BYTES) {
    throw new ConfigError(
      `${source} is not a valid encryption key: it must be ${KEY_BYTES} random bytes written as base64 (44 characters) or hex (64 characters), and it is ${trimmed.length} characters that are neither. ${GENERATE_KEY_HINT}`,
    );
  }
  const weak = weakness(bytes);
  if (weak !== undefined)
    throw new ConfigError(`${source} is too weak to be an encryption key: ${weak}. ${GENERATE_KEY_HINT}`);
  const secret = createSecretKey(bytes);
  bytes.fill(0);
  return { id: keyIdOf(secret), secret };
}

/** A keyring from key texts: the current one (optional) and older ones, in order. */
export function createKeyring(
  current: EncryptionKey | undefined,
  old: readonly EncryptionKey[] = [],
): Keyring {
  const byId = new Map<string, EncryptionKey>();
  for (const key of [...(current ? [current] : []), ...old]) if (!byId.has(key.id)) byId.set(key.id, key);
  return { current, get: (keyId) => byId.get(keyId), ids: [...byId.keys()] };
}

/** The keyring the environment describes (`STEPWISE_ENCRYPTION_KEY`, `STEPWISE_ENCRYPTION_OLD_KEYS`). */
export function keyringFromEnv(env: Record<string, string | undefined> = process.env): Keyring {
  const currentText = env[KEY_ENV]?.trim() ?? "";
  const current = currentText === "" ? undefined : parseEncryptionKey(currentText, KEY_ENV);
  const old = (env[OLD_KEYS_ENV] ?? "")
    .split(",")
    .map((text, index) => ({ text: text.trim(), index }))
    .filter(({ text }) => text !== "")
    .map(({ text, index }) => parseEncryptionKey(text, `${OLD_KEYS_ENV} entry ${index + 1}`));
  return createKeyring(current, old);
}

/** The one line a process prints when it stores payloads in clear. */
export const PLAINTEXT_NOTICE = `[stepwise] ${KEY_ENV} is not set: run inputs, step arguments and results, hook payloads and stream chunks are stored unencrypted. To encrypt them at rest, set it to 32 random bytes (${GENERATE_KEY_HINT.toLowerCase()}); see docs/security.md.`;
