/**
 * How `inspect` shows payloads: decoded when plain; `<encrypted>` when encrypted, unless decryption
 * was asked for, in which case an audit record (who, what, when, why) is written to the World
 * BEFORE any payload is decrypted, and a second one AFTER, saying whether decrypting succeeded or
 * failed and why. Those records are the only thing inspecting writes.
 */
import { hostname, userInfo } from "node:os";
import { decodeValue } from "../serde/codec.ts";
import { PayloadDecryptionError } from "../serde/errors.ts";
import { type PayloadCodec, type PayloadScope, payloadInfo } from "../serde/payload.ts";
import type { AuditActor, AuditEntry, World } from "../world/types.ts";

/** What a payload view needs from the inspect options. */
export interface PayloadViewOptions {
  /** Decrypt encrypted payloads, after recording who reads them in the World's audit trail. */
  decrypt?: boolean;
  /** Why, for the audit record. */
  reason?: string;
  /** Who, for the audit record; by default this process (`currentActor()`). */
  actor?: AuditActor;
}

/** The longest failure text an outcome record keeps. */
const MAX_OUTCOME_DETAIL = 1000;

/** Stands in for an encrypted payload that is not decrypted: `<encrypted>` in tables and JSON. */
export const ENCRYPTED_PAYLOAD: { toJSON(): string; toString(): string } = Object.freeze({
  toJSON: () => "<encrypted>",
  toString: () => "<encrypted>",
});

/** This process as an audit actor: the OS user, the host name and the pid. */
export function currentActor(): AuditActor {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.USERNAME ?? `uid ${String(process.getuid?.() ?? "?")}`;
  }
  return { user, host: hostname(), pid: process.pid };
}

/**
 * How payloads are shown: decoded when plain; `<encrypted>` when encrypted, unless decryption was
 * asked for and `unlock` has recorded it. A payload that cannot be decrypted fails the whole
 * inspection with its `PayloadDecryptionError` (which names the key id), never shows garbage.
 * `settle` records how decrypting ended.
 */
export class PayloadView {
  #unlocked = false;
  #decrypted = 0;
  audit: AuditEntry | undefined;
  outcome: AuditEntry | undefined;

  constructor(
    private readonly payloads: PayloadCodec,
    private readonly options: PayloadViewOptions,
  ) {}

  /** Records the decryption of `runIds`' payloads, if asked for; call before `show`. */
  async unlock(world: World, resource: string, runIds: readonly string[]): Promise<void> {
    if (!this.options.decrypt) return;
    const entry = {
      actor: this.options.actor ?? currentActor(),
      action: "decrypt",
      resource,
      runIds: [...new Set(runIds)],
    };
    this.audit = await world.audit.record(
      this.options.reason === undefined ? entry : { ...entry, reason: this.options.reason },
    );
    this.#unlocked = true;
  }

  /**
   * Records how the decryption `unlock` recorded ended (nothing when nothing was unlocked): failed,
   * with `error`'s name, code and message, or succeeded, with how many payloads were decrypted.
   */
  async settle(world: World, error?: unknown): Promise<void> {
    const attempt = this.audit;
    if (attempt === undefined || this.outcome !== undefined) return;
    let detail: string;
    if (error === undefined) {
      detail = `${this.#decrypted} encrypted payload${this.#decrypted === 1 ? "" : "s"} decrypted`;
    } else {
      const code = (error as { code?: unknown } | null)?.code;
      const text =
        error instanceof Error
          ? `${error.name}${typeof code === "string" ? ` (${code})` : ""}: ${error.message}`
          : String(error);
      detail = text.length > MAX_OUTCOME_DETAIL ? `${text.slice(0, MAX_OUTCOME_DETAIL - 1)}…` : text;
    }
    this.outcome = await world.audit.record({
      actor: attempt.actor,
      action: attempt.action,
      resource: attempt.resource,
      runIds: attempt.runIds,
      refersTo: attempt.auditId,
      outcome: error === undefined ? "succeeded" : "failed",
      detail,
    });
  }

  /** The value stored at `place` of `run`, or a placeholder when it stays encrypted. */
  show(run: PayloadScope, place: string, bytes: Uint8Array | undefined): unknown {
    if (bytes === undefined) return undefined;
    if (payloadInfo(bytes).format === "encrypted") {
      if (!this.options.decrypt) return ENCRYPTED_PAYLOAD;
      if (!this.#unlocked)
        throw new Error("internal: payloads decrypted before the audit record was written");
    }
    try {
      const decoded = decodeValue(this.payloads.decode(run, place, bytes));
      if (this.#unlocked && payloadInfo(bytes).format === "encrypted") this.#decrypted += 1;
      return decoded;
    } catch (error) {
      if (PayloadDecryptionError.is(error)) throw error;
      return `<unreadable: ${(error as Error).message}>`;
    }
  }
}

/** A short, one-line text for a decoded value. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "";
  if (value === ENCRYPTED_PAYLOAD) return String(value);
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return (
      JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? `${v.toString()}n` : v)) ??
      String(value)
    );
  } catch {
    return String(value);
  }
}
