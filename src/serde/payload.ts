/**
 * Payload bytes as stored by Worlds. A payload is the codec's text (see `codec.ts`) in a small
 * envelope whose first byte names the format, so formats can be read side by side:
 *
 *   0x01 <utf-8 text>                                              plain
 *   0x02 <key id: 8> <iv: 12> <AES-256-GCM ciphertext> <tag: 16>   encrypted, bound to its run (read only)
 *   0x03 <key id: 8> <iv: 12> <AES-256-GCM ciphertext> <tag: 16>   encrypted, bound to its run and place
 *
 * With a current key (`STEPWISE_ENCRYPTION_KEY`) every payload is written as 0x03: its associated
 * data names the run and the payload's place in it (`places.ts`), so a payload moved to another
 * place fails to open. Without a key payloads are plain, unless the run was created encrypted:
 * then writing is refused (a `ConfigError`), never downgraded to clear.
 *
 * Reading depends on the run (`PayloadScope`), recorded when it was created: a run created with a
 * key is encrypted for its whole life, so a plain payload in it is a forgery, refused with a
 * `PayloadDecryptionError`; a run created by this version (spec version 2 and later) never holds
 * 0x02, so one in it is a downgrade, refused alike. Runs created without a key stay readable in
 * clear (and hold 0x03 payloads written after a key was set); runs created encrypted by spec
 * version 1 read their 0x02 payloads as before. Every stored payload goes through one
 * `PayloadCodec`.
 */
import { ConfigError, SerializationError } from "../errors/runtime.ts";
import { seal, sealedKeyId, unseal } from "./encryption.ts";
import { PayloadDecryptionError } from "./errors.ts";
import { KEY_ENV, type Keyring, keyringFromEnv } from "./keys.ts";
import { describePlace } from "./places.ts";

const PLAIN = 0x01;
/** Encrypted, bound to the run only: written by spec version 1, still read in its runs. */
const ENCRYPTED_V1 = 0x02;
/** Encrypted, bound to the run and the payload's place. */
const ENCRYPTED = 0x03;
/** The first spec version whose runs hold only 0x03 encrypted payloads. */
const BOUND_SINCE_SPEC = 2;
const BINDING = "stepwise/payload/v2\u0000";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The run a payload belongs to, as recorded when it was created (a `RunRecord` is one). */
export interface PayloadScope {
  readonly runId: string;
  /** The run was created with encryption on: every payload in it must be encrypted. */
  readonly encrypted: boolean;
  /** The spec version the run was created with (runs before 2 may hold 0x02 payloads). */
  readonly specVersion: number;
}

/** Turns codec text into stored bytes for a place in a run, and back. */
export interface PayloadCodec {
  /**
   * Stored bytes for `text` at `place` (see `places.ts`): encrypted when the codec has a current
   * key. `ConfigError` when the run is encrypted and this process has no key.
   */
  encode(scope: PayloadScope, place: string, text: string): Uint8Array;
  /**
   * The text of bytes stored at `place`. `PayloadDecryptionError` when they cannot be opened, or
   * are not what the run's encryption allows there (plain or 0x02 in an encrypted run).
   */
  decode(scope: PayloadScope, place: string, bytes: Uint8Array): string;
  /** The id of the key new payloads are encrypted with; undefined when they are stored in clear. */
  readonly keyId: string | undefined;
  /** Every key id this codec can decrypt (current first); empty when it has no key at all. */
  readonly keyIds: readonly string[];
}

export interface PayloadCodecOptions {
  /** The keys; by default the environment's (`STEPWISE_ENCRYPTION_KEY`, `STEPWISE_ENCRYPTION_OLD_KEYS`). */
  keyring?: Keyring;
  /** Called whenever a payload is stored in clear (no current key), e.g. to say so once. */
  onPlaintext?: () => void;
}

/** What the envelope of stored bytes says, without decrypting anything. */
export type PayloadInfo =
  | { format: "plain" }
  | { format: "encrypted"; keyId: string | undefined; bound: boolean }
  | { format: "unknown"; firstByte: number | undefined };

export function payloadInfo(bytes: Uint8Array): PayloadInfo {
  const first = bytes[0];
  if (first === PLAIN) return { format: "plain" };
  if (first === ENCRYPTED) return { format: "encrypted", keyId: sealedKeyId(bytes), bound: true };
  if (first === ENCRYPTED_V1) return { format: "encrypted", keyId: sealedKeyId(bytes), bound: false };
  return { format: "unknown", firstByte: first };
}

/** True when `bytes` are encrypted (either format). */
export function isEncryptedPayload(bytes: Uint8Array): boolean {
  return bytes[0] === ENCRYPTED || bytes[0] === ENCRYPTED_V1;
}

function binding(scope: Pick<PayloadScope, "runId">, place: string): string {
  return `${BINDING}${scope.runId}\u0000${place}`;
}

/**
 * A codec for this process. `ConfigError` (from the environment's keys) when a key is malformed or
 * weak: better to refuse at once than to store payloads in a way nobody meant.
 */
export function createPayloadCodec(options: PayloadCodecOptions = {}): PayloadCodec {
  const keys = options.keyring ?? keyringFromEnv();
  const current = keys.current;
  const onPlaintext = options.onPlaintext;

  const refuse = (scope: PayloadScope, place: string, keyId: string | undefined, why: string): never => {
    throw new PayloadDecryptionError(
      scope.runId,
      keyId,
      `A payload of run ${scope.runId} (${describePlace(place)}) ${why} Someone who can write the database replaced it; nothing was read from it. Restore the run's data from a backup.`,
      place,
    );
  };

  return {
    keyId: current?.id,
    keyIds: keys.ids,
    encode(scope, place, text) {
      const body = encoder.encode(text);
      if (current !== undefined) return seal(current, scope.runId, ENCRYPTED, body, binding(scope, place));
      if (scope.encrypted) {
        throw new ConfigError(
          `Run ${scope.runId} was created with encryption on, and this process has no ${KEY_ENV}: it cannot store ${describePlace(place)} in clear. Set ${KEY_ENV} to the key the run's other processes use.`,
        );
      }
      onPlaintext?.();
      const bytes = new Uint8Array(body.length + 1);
      bytes[0] = PLAIN;
      bytes.set(body, 1);
      return bytes;
    },
    decode(scope, place, bytes) {
      const format = bytes[0];
      const at = { runId: scope.runId, place, described: describePlace(place) };
      if (format === ENCRYPTED) return decoder.decode(unseal(keys, at, bytes, binding(scope, place)));
      if (format === PLAIN) {
        if (scope.encrypted) {
          refuse(scope, place, undefined, "is stored in clear, but the run was created with encryption on.");
        }
        return decoder.decode(bytes.subarray(1));
      }
      if (format === ENCRYPTED_V1) {
        if (scope.specVersion >= BOUND_SINCE_SPEC) {
          refuse(
            scope,
            place,
            sealedKeyId(bytes),
            "is in the older encrypted format (0x02, not bound to its place), which runs created by this version of Stepwise never hold.",
          );
        }
        return decoder.decode(unseal(keys, at, bytes));
      }
      if (scope.encrypted) {
        refuse(scope, place, undefined, `has no valid envelope (first byte ${String(format)}).`);
      }
      throw new SerializationError(
        `A payload of run ${scope.runId} (${describePlace(place)}) has an unknown format (first byte ${String(format)}). It was written by a newer Stepwise or is corrupt; upgrade this worker.`,
      );
    },
  };
}

/**
 * The bytes of an encrypted payload re-encrypted under `keys.current`, in the same format (0x03
 * stays bound to the same run and place; 0x02 stays 0x02) and so of the same length; undefined when
 * there is nothing to do: the payload is in clear (rekey does not encrypt), or already under the
 * current key. `PayloadDecryptionError` when it cannot be opened (its key is not in `keys`, or it
 * was altered); `ConfigError` without a current key.
 */
export function resealPayload(
  keys: Keyring,
  scope: Pick<PayloadScope, "runId">,
  place: string,
  bytes: Uint8Array,
): Uint8Array | undefined {
  const current = keys.current;
  if (current === undefined) {
    throw new ConfigError(`Re-encrypting needs a current key: set ${KEY_ENV} to the new key.`);
  }
  const format = bytes[0];
  if (format !== ENCRYPTED && format !== ENCRYPTED_V1) return undefined;
  if (sealedKeyId(bytes) === current.id) return undefined;
  const at = { runId: scope.runId, place, described: describePlace(place) };
  const bound = format === ENCRYPTED ? binding(scope, place) : undefined;
  return seal(current, scope.runId, format, unseal(keys, at, bytes, bound), bound);
}
