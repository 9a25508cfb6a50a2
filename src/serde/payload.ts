/**
 * Payload bytes as stored by Worlds. A payload is the codec's text (see `codec.ts`) in a small
 * envelope whose first byte names the format, so formats can be read side by side:
 *
 *   0x01 <utf-8 text>                                           plain
 *   0x02 <key id: 8> <iv: 12> <AES-256-GCM ciphertext> <tag: 16>   encrypted (see `encryption.ts`)
 *
 * With a current key (`STEPWISE_ENCRYPTION_KEY`) every payload is encrypted; without one payloads
 * are plain. Both formats are always readable: plain ones need nothing, encrypted ones need the key
 * their envelope names (current or old). Every stored payload goes through one `PayloadCodec`.
 */
import { SerializationError } from "../errors/runtime.ts";
import { seal, sealedKeyId, unseal } from "./encryption.ts";
import { type Keyring, keyringFromEnv } from "./keys.ts";

const PLAIN = 0x01;
const ENCRYPTED = 0x02;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Turns codec text into stored bytes for a run, and back. */
export interface PayloadCodec {
  /** Stored bytes for `text`: encrypted when the codec has a current key. */
  encode(runId: string, text: string): Uint8Array;
  /** The text of stored bytes. `PayloadDecryptionError` when an encrypted payload cannot be opened. */
  decode(runId: string, bytes: Uint8Array): string;
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
  | { format: "encrypted"; keyId: string | undefined }
  | { format: "unknown"; firstByte: number | undefined };

export function payloadInfo(bytes: Uint8Array): PayloadInfo {
  const first = bytes[0];
  if (first === PLAIN) return { format: "plain" };
  if (first === ENCRYPTED) return { format: "encrypted", keyId: sealedKeyId(bytes) };
  return { format: "unknown", firstByte: first };
}

/**
 * A codec for this process. `ConfigError` (from the environment's keys) when a key is malformed or
 * weak: better to refuse at once than to store payloads in a way nobody meant.
 */
export function createPayloadCodec(options: PayloadCodecOptions = {}): PayloadCodec {
  const keys = options.keyring ?? keyringFromEnv();
  const current = keys.current;
  const onPlaintext = options.onPlaintext;
  return {
    keyId: current?.id,
    keyIds: keys.ids,
    encode(runId, text) {
      const body = encoder.encode(text);
      if (current !== undefined) return seal(current, runId, ENCRYPTED, body);
      onPlaintext?.();
      const bytes = new Uint8Array(body.length + 1);
      bytes[0] = PLAIN;
      bytes.set(body, 1);
      return bytes;
    },
    decode(runId, bytes) {
      const format = bytes[0];
      if (format === PLAIN) return decoder.decode(bytes.subarray(1));
      if (format === ENCRYPTED) return decoder.decode(unseal(keys, runId, bytes));
      throw new SerializationError(
        `A payload of run ${runId} has an unknown format (first byte ${String(format)}). It was written by a newer Stepwise or is corrupt; upgrade this worker.`,
      );
    },
  };
}
