/**
 * How much new work a worker can take now. A worker's scarce resource for step-bound work is its
 * step slots (`maxConcurrentSteps`, `--concurrency`); runs are cheap to hold but each one driven
 * needs a slot for its next step. So every run the worker drives counts as a demand of the steps
 * it executes or waits a slot for, and at least one: a run between two steps (committing, about
 * to start the next), held in memory for a sleep due within `holdMs`, or just claimed (being
 * leased and replayed) will want a slot in a moment, and a sequential run keeps its one slot for
 * its whole stay (execution is sticky: its next step starts inline, in the same worker). A run
 * that fans out demands as many slots as steps it runs at once (up to `perRunConcurrency`).
 *
 * The free capacity is the slots no run demands, bounded by the runs the worker may hold at once
 * (`maxActiveRuns`, a memory bound). A claim asks for that many messages and no more, so runs
 * the worker could not start now stay in the queue, where an idle worker takes them.
 */

/** A run a worker drives, as far as its demand for step slots goes. */
export interface SlotDemand {
  /** Steps of the run executing or waiting for a slot right now (undefined: not driven yet). */
  readonly runningSteps: number | undefined;
}

/** The limits a worker's capacity is measured against. */
export interface CapacityLimits {
  /** Runs driven at once. */
  readonly maxActiveRuns: number;
  /** Steps executing at once across all runs (the step slots). */
  readonly maxConcurrentSteps: number;
}

/** The step slots `run` demands: what it executes or waits a slot for, and at least one. */
export function slotDemand(run: SlotDemand): number {
  return Math.max(1, run.runningSteps ?? 0);
}

/**
 * How many new runs a worker with `limits`, driving `runs`, can start now: the step slots none of
 * them demands, and no more than the runs it may still hold. Zero or less: claim nothing.
 */
export function freeCapacity(limits: CapacityLimits, runs: Iterable<SlotDemand>): number {
  let held = 0;
  let demand = 0;
  for (const run of runs) {
    held += 1;
    demand += slotDemand(run);
  }
  return Math.min(limits.maxActiveRuns - held, limits.maxConcurrentSteps - demand);
}
