/**
 * The runtime's clock: what the worker, the driver, the run machine and the step executor read
 * the time from, and how they wait for a time to come. Production uses `wallClock` (`Date.now`
 * and unref'd timers); `stepwise-workflows/testing` passes a virtual clock instead, so that a
 * week's sleep or a retry's backoff passes at once in a test. The Worlds take their own `now`.
 */

/** A source of time and of timers on that time. */
export interface Clock {
  /** The current time, epoch milliseconds. */
  now(): number;
  /**
   * Calls `fn` once the clock reaches `at` (epoch ms; at once, asynchronously, if it has). The
   * timer never keeps the process alive. Returns a function that cancels it.
   */
  at(at: number, fn: () => void): () => void;
  /**
   * Timers fire at their time exactly, never early (a virtual clock): the worker then looks for
   * due work at its time, rather than a millisecond after as it does on the wall clock.
   */
  readonly precise?: boolean;
}

/** The longest a Node timer waits in one go (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The wall clock: `Date.now()`, and unref'd `setTimeout`s (re-armed past ~24.8 days). */
export const wallClock: Clock = {
  now: () => Date.now(),
  at(at, fn) {
    let timer: NodeJS.Timeout;
    const arm = (): void => {
      const left = Math.max(0, at - Date.now());
      timer = setTimeout(left > MAX_TIMER_MS ? arm : fn, Math.min(left, MAX_TIMER_MS));
      timer.unref();
    };
    arm();
    return () => clearTimeout(timer);
  },
};
