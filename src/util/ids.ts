/**
 * Identifiers. Runs, queue messages, inbox items and events get a prefix and a random ULID. Step, wait and
 * hook ids inside a run are derived from the run's secret seed and the position of the call in the
 * workflow, so every replay of the run derives exactly the same ids, and nobody without the seed
 * can guess them (hook and webhook tokens are derived the same way, with 160 bits of HMAC output).
 */
import { createHmac, randomBytes } from "node:crypto";
import { encodeTime, monotonicFactory } from "ulid";

const nextUlid = monotonicFactory();
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export type IdPrefix = "wrun" | "msg" | "inbox" | "evt" | "step" | "wait" | "hook" | "whk" | "log";

/** A fresh, time-ordered id such as `wrun_01JD3...`. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${nextUlid()}`;
}

/** 128 random bits, hex encoded: the per-run seed for deterministic ids and randomness. */
export function newRunSeed(): string {
  return randomBytes(16).toString("hex");
}

function base32(bytes: Uint8Array, length: number): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += CROCKFORD[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

/**
 * A deterministic ULID-shaped id for the `index`-th call of kind `prefix` in a run: its time part is
 * the run's creation time (so ids sort with the run) and its random part comes from HMAC(seed).
 * A call made after a restart (`generation` 2 and later) mixes the generation in, so a step that
 * runs again gets an id of its own, not the one its earlier run recorded; generation 1 derives
 * exactly what it always did.
 */
export function derivedId(
  prefix: IdPrefix,
  seed: string,
  runCreatedAt: number,
  index: number,
  generation = 1,
): string {
  const input = generation > 1 ? `${prefix}:${index}:g${generation}` : `${prefix}:${index}`;
  const mac = createHmac("sha256", seed).update(input).digest();
  return `${prefix}_${encodeTime(runCreatedAt, 10)}${base32(mac, 16)}`;
}

/**
 * An unguessable token (160 bits) derived from the run seed, stable across replays, and across
 * restarts: the hook a restarted run creates again at the same call listens on the same token
 * (its earlier one stopped listening when that generation ended), so a webhook URL handed out
 * before the restart reaches the run again.
 */
export function derivedToken(seed: string, index: number): string {
  const mac = createHmac("sha256", seed).update(`token:${index}`).digest();
  return base32(mac, 32).toLowerCase();
}

/** The longest run id a caller may choose (`start(workflow, args, { id })`). */
export const MAX_RUN_ID_LENGTH = 100;

const RUN_ID_CHARACTER = /[A-Za-z0-9_.:-]/;

/** What a run id may be, in words, for messages. */
export const RUN_ID_RULE =
  'A run id is 1 to 100 characters of letters, digits, "_", ".", ":" and "-", e.g. "order-1234" or "invoice:2024.07".';

/**
 * What is wrong with a run id a caller chose, in a few words, or undefined when it is fine: 1 to
 * 100 characters of letters, digits, `_`, `.`, `:` and `-`, and neither `.` nor `..` (a URL path
 * cannot name those). Generated ids (`wrun_…`) pass too. The API, the HTTP handler and the CLI
 * all check with this one rule (`RUN_ID_RULE` says it in words).
 */
export function runIdProblem(id: unknown): string | undefined {
  if (typeof id !== "string") return `it is ${id === null ? "null" : `a ${typeof id}`}, not a string`;
  if (id.length === 0) return "it is empty";
  if (id.length > MAX_RUN_ID_LENGTH) return `it has ${id.length} characters, more than ${MAX_RUN_ID_LENGTH}`;
  for (let index = 0; index < id.length; index++) {
    const character = id[index] as string;
    if (!RUN_ID_CHARACTER.test(character)) {
      const shown = /[\u0020-\u007e]/.test(character)
        ? `"${character}"`
        : `U+${(id.codePointAt(index) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
      return `it holds ${shown} at position ${index + 1}`;
    }
  }
  if (id === "." || id === "..") return `"${id}" cannot name a run in a URL path`;
  return undefined;
}
