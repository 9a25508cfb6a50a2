/**
 * Moves a test environment's virtual clock: it watches its World and worker, says when the
 * environment has settled (no run being driven, no message due now, nothing changed between
 * two looks), and, with auto-advance on, then jumps the clock to the next due time (a sleep's
 * wake-up, a retry, an event wait's timeout), so a week passes at once. A run whose steps are in
 * flight holds the clock, unless nothing has changed for `settleMs` of real time: then the steps
 * are taken to be waiting (for a timeout, say) and time moves to the next timer.
 */
import { registeredWorkflowList } from "../runtime/registry.ts";
import type { Worker } from "../runtime/worker.ts";
import type { World } from "../world/types.ts";
import type { VirtualClock } from "./virtual-clock.ts";

export interface PacerOptions {
  world: World;
  worker: Worker;
  clock: VirtualClock;
  autoAdvance: boolean;
  settleMs: number;
}

/**
 * One real millisecond: long enough for the worker's `setImmediate` claims to run. The
 * auto-advance loop's pauses never keep the process alive (`hold` false); a test awaiting
 * `settled()` does.
 */
const breathe = (hold = true): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, 1);
    if (!hold) timer.unref();
  });

export class Pacer {
  autoAdvance: boolean;
  readonly #options: PacerOptions;
  #activity = 0;
  #lastActivityAt = performance.now();
  #unsubscribe: (() => void) | undefined;
  #closed = false;
  #loop: Promise<void> | undefined;

  constructor(options: PacerOptions) {
    this.#options = options;
    this.autoAdvance = options.autoAdvance;
    this.#unsubscribe = options.world.subscribe(() => this.#touch());
    this.#loop = this.#run();
  }

  #touch(): void {
    this.#activity += 1;
    this.#lastActivityAt = performance.now();
  }

  /** Nothing is being driven and no message is due now. */
  async #idleNow(): Promise<boolean> {
    const { worker, world, clock } = this.#options;
    // `busy` covers a claim about to run or arming its timer, not only runs being driven: a
    // run just let go is followed by a claim that arms the timer of its next wake-up.
    if (worker.busy) return false;
    const next = await world.queue.nextAvailableAt({ workflows: registeredWorkflowList() });
    return !worker.busy && (next === undefined || next > clock.now());
  }

  /** Idle at two looks a real millisecond apart, with nothing changed in between. */
  async #settledNow(): Promise<boolean> {
    const seen = this.#activity;
    if (!(await this.#idleNow())) return false;
    await breathe();
    return seen === this.#activity && (await this.#idleNow());
  }

  /** Resolves once the environment has settled (see the file header); never moves the clock. */
  async settled(): Promise<void> {
    while (!this.#closed && !(await this.#settledNow())) await breathe();
  }

  /** Moves the clock to `to`, firing what comes due on the way. */
  advanceTo(to: number): void {
    this.#options.clock.advanceTo(to);
    this.#touch();
  }

  async #run(): Promise<void> {
    const { clock, worker } = this.#options;
    while (!this.#closed) {
      await breathe(false);
      if (!this.autoAdvance || this.#closed) continue;
      if (await this.#settledNow()) {
        const next = clock.nextTimerAt();
        if (next !== undefined && next > clock.now()) this.advanceTo(next);
      } else if (worker.activeRuns > 0 && performance.now() - this.#lastActivityAt > this.#options.settleMs) {
        const next = clock.nextTimerAt();
        if (next !== undefined) this.advanceTo(Math.max(next, clock.now()));
      }
    }
  }

  /** Stops watching; resolves when the loop has ended. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    // The loop may be in one of its pauses, whose timers never hold the process: hold it here,
    // or a test awaiting close() (`await using`) would see its event loop end with close pending.
    const hold = setInterval(() => {}, 1 << 30);
    try {
      await this.#loop;
    } finally {
      clearInterval(hold);
    }
  }
}
