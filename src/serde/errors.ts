/**
 * The error a payload that cannot be decrypted raises: its key id is not configured, no key is
 * configured at all, or the ciphertext fails authentication (altered, truncated, or moved from
 * another run). It is a `SerializationError` (code `PAYLOAD_DECRYPTION`), so `SerializationError.is`
 * matches it too; the message names the run and the key id and says which setting to fix.
 */
import { registerErrorCode } from "../errors/base.ts";
import { SerializationError } from "../errors/runtime.ts";

/** A stored payload could not be decrypted; nothing was read from it. */
export class PayloadDecryptionError extends SerializationError {
  static override readonly code: string = "PAYLOAD_DECRYPTION";
  readonly runId: string;
  /** The key id in the payload's envelope, when the envelope was readable. */
  readonly keyId: string | undefined;
  constructor(runId: string, keyId: string | undefined, message: string) {
    super(message);
    this.runId = runId;
    this.keyId = keyId;
  }
}
registerErrorCode(PayloadDecryptionError.code, SerializationError.code);
