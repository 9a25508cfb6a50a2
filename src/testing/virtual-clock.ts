/**
 * The virtual clock of a test environment: time stands still until it is moved, by the
 * environment's auto-advance or by `env.advance` / `env.advanceTo`. Its timers (the worker's
 * next claim, a driver waiting for a due time, a step's timeout) fire as the clock passes their
 * time, in order, with the clock set to each one's time.
 */
import type { Clock } from "../runtime/clock.ts";

interface Timer {
  at: number;
  fn: () => void;
  order: number;
}

export class VirtualClock implements Clock {
  #now: number;
  #timers = new Set<Timer>();
  #order = 0;
  readonly precise = true;

  constructor(start: number) {
    this.#now = start;
  }

  /** The virtual time, epoch milliseconds. */
  readonly now = (): number => this.#now;

  /** Calls `fn` when the clock reaches `at`; a time already reached fires on the next turn. */
  readonly at = (at: number, fn: () => void): (() => void) => {
    const timer: Timer = { at, fn, order: this.#order++ };
    this.#timers.add(timer);
    if (at <= this.#now) setImmediate(() => this.#fire(timer));
    return () => {
      this.#timers.delete(timer);
    };
  };

  /** When the earliest timer is due, if any is armed. */
  nextTimerAt(): number | undefined {
    let next: number | undefined;
    for (const timer of this.#timers) if (next === undefined || timer.at < next) next = timer.at;
    return next;
  }

  /**
   * Moves the clock to `to` (never back), firing the timers due on the way in time order, the
   * clock set to each one's time as it fires.
   */
  advanceTo(to: number): void {
    for (;;) {
      const due = [...this.#timers]
        .filter((timer) => timer.at <= to)
        .sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (due === undefined) break;
      this.#now = Math.max(this.#now, due.at);
      this.#fire(due);
    }
    this.#now = Math.max(this.#now, to);
  }

  #fire(timer: Timer): void {
    if (!this.#timers.delete(timer)) return;
    timer.fn();
  }
}
