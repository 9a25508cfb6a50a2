/**
 * How a process with an in-process worker ends gracefully: the steps it is running finish and are
 * recorded, and its runs are handed back to the queue, instead of being cut off and run again
 * (side effects included) by the next worker once their lease expires.
 *
 * - SIGINT / SIGTERM (Ctrl-C during `npx stepwise start --wait`, a container stopping): the worker
 *   stops taking work, lets its running steps finish (those still running after its stop grace,
 *   10 s by default, have their signals aborted), commits, hands its runs back; then, unless
 *   the application listens for the signal itself, the World is closed and the signal is raised
 *   again, so the process ends the way it would have (killed by that signal). A second signal
 *   exits at once.
 * - The end of a script (Node's `beforeExit`: nothing left to do but the worker's unref'd waits,
 *   or steps whose own handles do not keep the process alive): the worker stops the same way, the
 *   process held open meanwhile, for at most `graceMs`.
 *
 * A process that calls `process.exit()` itself skips all this; an application that handles the
 * signals itself should `await shutdown()` in its handler.
 */
import type { Worker } from "./worker.ts";

export interface ExitGuardOptions {
  worker: Worker;
  /** Closes what the process opened (the World), after the worker stopped on a signal. */
  close(): Promise<void>;
  /** Where the guard says what it does (default: stderr). */
  note?: (message: string) => void;
  /** How long the end of a script waits for the steps still running (default 30 s). */
  graceMs?: number;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
const SIGNAL_NUMBERS: Record<(typeof SIGNALS)[number], number> = { SIGINT: 2, SIGTERM: 15 };

/** Installs the guard for `worker`; returns the function that removes it. */
export function guardExit(options: ExitGuardOptions): () => void {
  const { worker } = options;
  const note = options.note ?? ((message: string) => process.stderr.write(`[stepwise] ${message}\n`));
  const graceMs = options.graceMs ?? 30_000;
  let stopping = false;

  const dispose = (): void => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
    process.off("beforeExit", onBeforeExit);
  };

  /** Runs `work` with the process held open, for at most `limitMs` when given. */
  const holding = (work: Promise<void>, limitMs?: number): Promise<boolean> => {
    const hold = setInterval(() => {}, 1 << 30);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      if (limitMs !== undefined) timer = setTimeout(() => resolve(false), limitMs);
    });
    return Promise.race([work.then(() => true), timeout]).finally(() => {
      clearInterval(hold);
      if (timer !== undefined) clearTimeout(timer);
    });
  };

  const steps = (count: number): string => (count === 1 ? "1 running step" : `${count} running steps`);

  function onSignal(signal: (typeof SIGNALS)[number]): void {
    if (stopping) {
      note(`${signal} again: exiting now; the steps still running will run again in another worker.`);
      process.exit(128 + SIGNAL_NUMBERS[signal]);
    }
    stopping = true;
    const running = worker.runningSteps;
    if (running > 0) {
      const runs = worker.activeRuns === 1 ? "its run" : "their runs";
      note(
        `${signal}: letting ${steps(running)} finish, then handing ${runs} back (${signal} again to exit at once).`,
      );
    }
    const ownSignal = process.listenerCount(signal) === 1;
    void holding(worker.stop()).then(async () => {
      if (!ownSignal) return dispose(); // the application handles the signal: its process, its exit
      await options.close().catch(() => {});
      dispose();
      process.kill(process.pid, signal);
    });
  }

  function onBeforeExit(): void {
    if (stopping || worker.activeRuns === 0) return;
    stopping = true;
    const running = worker.runningSteps;
    void holding(worker.stop(), graceMs).then((stopped) => {
      if (!stopped) {
        note(
          `the script ended with ${steps(running)} that did not finish within ${graceMs / 1000} s; they will run again in another worker.`,
        );
      }
    });
  }

  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on("beforeExit", onBeforeExit);
  return dispose;
}
