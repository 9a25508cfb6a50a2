/**
 * The error a payload that cannot be decrypted raises: its key id is not configured, no key is
 * configured at all, the ciphertext fails authentication (altered, truncated, or moved from another
 * run or another place in its run), or the payload is in clear or in the older unbound format in a
 * run that was created encrypted (forged or downgraded). It is a `SerializationError` (code
 * `PAYLOAD_DECRYPTION`), so `SerializationError.is` matches it too; the message names the run, the
 * payload's place and the key id, and says which setting to fix.
 */
import { registerErrorCode } from "../errors/base.ts";
import { SerializationError } from "../errors/runtime.ts";

/**
 * Why a payload could not be read: its key is not configured here (`missing-key`: another process
 * with the key can read it), or it is not what was written there (`invalid`: altered, truncated,
 * moved, forged in clear or in an older format — no key will ever read it).
 */
export type PayloadDecryptionReason = "missing-key" | "invalid";

/** A stored payload could not be decrypted; nothing was read from it. */
export class PayloadDecryptionError extends SerializationError {
  static override readonly code: string = "PAYLOAD_DECRYPTION";
  readonly runId: string;
  /** The key id in the payload's envelope, when the envelope was readable. */
  readonly keyId: string | undefined;
  /** Where the payload sits in its run (see serde/places.ts), when the reader knew it. */
  readonly place: string | undefined;
  readonly reason: PayloadDecryptionReason;
  constructor(
    runId: string,
    keyId: string | undefined,
    message: string,
    place?: string,
    reason: PayloadDecryptionReason = "invalid",
  ) {
    super(message);
    this.runId = runId;
    this.keyId = keyId;
    this.place = place;
    this.reason = reason;
  }
}
registerErrorCode(PayloadDecryptionError.code, SerializationError.code);
