/** A counting semaphore: at most `size` holders at once, the rest wait in arrival order. */
export class Semaphore {
  #free: number;
  readonly #waiters: (() => void)[] = [];
  readonly #onRelease: (() => void) | undefined;

  /** `onRelease` is told each time a holder lets go (the worker looks for work when it was full). */
  constructor(size: number, onRelease?: () => void) {
    this.#free = size;
    this.#onRelease = onRelease;
  }

  acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free += 1;
    this.#onRelease?.();
  }
}
