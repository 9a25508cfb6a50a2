/**
 * Long polls without polling: a request that found nothing (no task to lease, no new stream chunk)
 * waits here for the World's change hint that could change the answer, a deadline, the client
 * going away, or the server shutting down — whichever comes first — and then looks once more. One
 * World subscription serves every waiting request; a waiting request costs a closure and a timer.
 */
import type { World, WorldNotification } from "../world/types.ts";

/** What a waiting request wakes for. */
export type WakeTest = (notification: WorldNotification) => boolean;

interface Waiter {
  test: WakeTest;
  wake: () => void;
}

export class Waiters {
  readonly #waiters = new Set<Waiter>();
  readonly #unsubscribe: () => void;
  #closed = false;

  constructor(world: World) {
    this.#unsubscribe = world.subscribe((notification) => {
      for (const waiter of this.#waiters) {
        if (notification.type === "any" || waiter.test(notification)) waiter.wake();
      }
    });
  }

  /** True once the server is shutting down: a long poll answers with what it has. */
  get closed(): boolean {
    return this.#closed;
  }

  /** How many requests are waiting (for the health route and tests). */
  get size(): number {
    return this.#waiters.size;
  }

  /**
   * Starts listening for `test` NOW (before the caller's first look, so that a change between the
   * look and the wait is not missed) and returns `wait(until)`, which resolves when a matching hint
   * arrived (since this call), at `until` (epoch ms), when `signal` aborts, or when the server
   * closes; and `cancel`, to stop listening without waiting.
   */
  listen(
    test: WakeTest,
    signal?: AbortSignal,
  ): { wait: (until: number) => Promise<void>; cancel: () => void } {
    let woken = this.#closed || signal?.aborted === true;
    let resolve: (() => void) | undefined;
    const waiter: Waiter = {
      test,
      wake: () => {
        woken = true;
        resolve?.();
      },
    };
    const cancel = (): void => {
      this.#waiters.delete(waiter);
      signal?.removeEventListener("abort", waiter.wake);
    };
    if (!woken) {
      this.#waiters.add(waiter);
      signal?.addEventListener("abort", waiter.wake, { once: true });
    }
    const wait = (until: number): Promise<void> => {
      if (woken) {
        cancel();
        return Promise.resolve();
      }
      return new Promise<void>((done) => {
        const timer = setTimeout(waiter.wake, Math.max(0, until - Date.now()));
        resolve = () => {
          clearTimeout(timer);
          cancel();
          done();
        };
      });
    };
    return { wait, cancel };
  }

  /** Wakes every waiting request (they answer with what they have) and stops listening to the World. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    for (const waiter of [...this.#waiters]) waiter.wake();
    this.#waiters.clear();
  }
}
