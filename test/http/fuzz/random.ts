/**
 * Seeded randomness for the fuzz test: request i of seed S always comes from the same generator
 * (sha256 of "S:i" seeds the sandbox's sfc32), so one failing request can be replayed alone.
 */
import { createHash } from "node:crypto";
import { createPrng } from "../../../src/util/prng.ts";

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One item of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** A string of `length` characters drawn from `alphabet`. */
  string(length: number, alphabet?: string): string;
  /** Random bytes. */
  bytes(length: number): Uint8Array;
}

const DEFAULT_ALPHABET =
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~%/\\:@!$&'()*+,;=? \u00e9\u{1F600}\0\n";

/** The generator for request `index` of run `seed`. */
export function randomFor(seed: string, index: number): Random {
  const prng = createPrng(createHash("sha256").update(`${seed}:${index}`).digest("hex"));
  const next = (): number => prng.next();
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => items[int(items.length)] as T,
    string(length, alphabet = DEFAULT_ALPHABET) {
      const chars = [...alphabet];
      let out = "";
      for (let i = 0; i < length; i++) out += chars[int(chars.length)];
      return out;
    },
    bytes(length) {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = int(256);
      return out;
    },
  };
}
