/** A least-recently-used map with a size bound; `take` removes what it returns. */
export class LruCache<K, V> {
  readonly #max: number;
  readonly #entries = new Map<K, { value: V; at: number }>();

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  put(key: K, value: V, now: number = Date.now()): void {
    this.#entries.delete(key);
    if (this.#max <= 0) return;
    this.#entries.set(key, { value, at: now });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  /** The value under `key`, left in place and not counted as a use. */
  peek(key: K): V | undefined {
    return this.#entries.get(key)?.value;
  }

  take(key: K): V | undefined {
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    return entry?.value;
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  /** Drops entries stored before `cutoff`. */
  evictOlderThan(cutoff: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.at >= cutoff) break;
      this.#entries.delete(key);
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}
