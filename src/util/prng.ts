/**
 * A small, fast, seedable pseudo-random generator (sfc32) for the workflow sandbox, where
 * `Math.random` and `crypto.getRandomValues` must return the same sequence on every replay of a run.
 * This file must stay free of Node imports: it is bundled into the sandbox.
 */

export interface Prng {
  /** A float in [0, 1), like `Math.random()`. */
  next(): number;
  /** A 32-bit unsigned integer. */
  nextUint32(): number;
}

/** A generator seeded from a hex string of at least 32 characters (128 bits). */
export function createPrng(seedHex: string): Prng {
  const word = (i: number): number =>
    Number.parseInt(seedHex.slice(i * 8, i * 8 + 8).padEnd(8, "0"), 16) >>> 0;
  let a = word(0);
  let b = word(1);
  let c = word(2);
  let d = word(3) | 1;
  const nextUint32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t;
  };
  // Discard the first outputs, which are weakly mixed for low-entropy seeds.
  for (let i = 0; i < 15; i++) nextUint32();
  return { next: () => nextUint32() / 4294967296, nextUint32 };
}
