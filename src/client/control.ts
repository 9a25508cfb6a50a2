/**
 * Pausing and resuming runs, from any process (the application, the CLI, the HTTP API). The log
 * keeps a single writer: a request goes to the run's inbox, and the worker driving the run records
 * it (`run_pausing` while its steps in flight finish, then `run_paused`, or `run_resumed`). When
 * nobody drives the run (it sleeps, waits, is paused, or its worker died and its lease ran out), the
 * client takes the run's lease for a moment and records it itself, as `Run.cancel()` does.
 */
import { RunNotPausedError } from "../errors/control.ts";
import { RunFinishedError } from "../errors/world.ts";
import { letGoOfRun } from "../runtime/let-go.ts";
import { newOwnerId } from "../util/owner.ts";
import type { NewEvent } from "../world/events.ts";
import { type InboxItem, type RunRecord, TERMINAL_RUN_STATUSES, type World } from "../world/types.ts";
import { waitForRun } from "./watch.ts";

/** How long a client holds a run's lease while it records a control itself. */
const CONTROL_LEASE_MS = 10_000;

/** The requests a pause answers; a resume answers these and earlier resumes too; a cancel, all. */
const CANCEL_KINDS: ReadonlySet<InboxItem["kind"]> = new Set(["cancel", "pause", "pause_abort", "resume"]);
const PAUSE_KINDS: ReadonlySet<InboxItem["kind"]> = new Set(["pause", "pause_abort"]);
const RESUME_KINDS: ReadonlySet<InboxItem["kind"]> = new Set(["pause", "pause_abort", "resume"]);

export interface PauseOptions {
  /**
   * Also abort the signals of the steps executing now (`getStepMetadata().signal`, reason a
   * `StepAbortedError` "paused"). A step that stops then runs again after the resume, as an
   * interrupted attempt; one that finishes anyway is recorded. Default false: they finish.
   */
  abortSteps?: boolean;
}

const isTerminal = (run: RunRecord): boolean => TERMINAL_RUN_STATUSES.has(run.status);

/**
 * Records `events` on a run nobody drives, under a short lease of our own: what `decide` returns
 * for the run as it is once the lease is held (undefined: nothing to record). Returns "busy" when a
 * worker drives the run, with its record, or "done" with the run as `decide` saw it.
 */
async function recordUndriven(
  world: World,
  runId: string,
  decide: (
    run: RunRecord,
  ) => { events: NewEvent[]; answers: ReadonlySet<InboxItem["kind"]>; wake?: boolean } | undefined,
): Promise<{ state: "busy" | "done"; run: RunRecord }> {
  const owner = newOwnerId();
  const taken = await world.runs.acquire(runId, owner, CONTROL_LEASE_MS);
  if (!taken.acquired) return { state: "busy", run: taken.run };
  /** Whether the append let go of the lease, and whether it kept it because someone asked. */
  let released = false;
  let kept = false;
  try {
    const plan = decide(taken.run);
    if (plan === undefined) return { state: "done", run: taken.run };
    const inbox = await world.inbox.list(runId);
    const result = await world.events.append({
      runId,
      expectedSeq: taken.run.seq,
      owner,
      events: plan.events,
      // The requests asked for so far that this record answers.
      consumeInbox: inbox.filter((item) => plan.answers.has(item.kind)).map((item) => item.itemId),
      ...(plan.wake
        ? { enqueue: [{ runId, kind: "wake" as const, dedupeKey: `resume:${runId}:${taken.run.seq}` }] }
        : {}),
      releaseLease: true,
    });
    released = result.leaseReleased ?? false;
    // Not let go: someone asked for the run while we held it (the flag is cleared now).
    kept = !released;
    // The run as leased, moved on by the append (an append reports only what it changed).
    return { state: "done", run: { ...taken.run, ...result.run } };
  } finally {
    if (!released) await letGoOfRun(world, runId, owner, kept);
  }
}

/**
 * Waits until `done` holds for the run, or until whoever holds its lease lets go (another client
 * recording a control) or would have lapsed (a worker that died).
 */
async function waitForDriver(
  world: World,
  run: RunRecord,
  done: (run: RunRecord) => boolean,
): Promise<RunRecord | undefined> {
  const expiresAt = run.lease?.expiresAt ?? Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      waitForRun(world, run.runId, (r) => done(r) || r.lease?.owner !== run.lease?.owner),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), Math.max(50, expiresAt - Date.now() + 50));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Pauses the run `runId` in `world` (see `Run.pause`). Resolves once the pause is recorded: status `pausing` while steps
 * in flight finish, or `paused`. `RunNotFoundError`; `RunFinishedError` for a run that has ended
 * (or ends before the pause is recorded, e.g. cancelled meanwhile). Pausing a paused run changes
 * nothing.
 */
export async function pauseRun(world: World, runId: string, options: PauseOptions = {}): Promise<void> {
  let run = await world.runs.get(runId);
  const paused = (r: RunRecord) => r.status === "pausing" || r.status === "paused";
  if (isTerminal(run)) throw new RunFinishedError(runId, run.status, "paused");
  if (paused(run) && !options.abortSteps) return;
  try {
    await world.inbox.put({ runId, kind: options.abortSteps ? "pause_abort" : "pause" });
  } catch (error) {
    if (RunFinishedError.is(error)) throw new RunFinishedError(runId, error.status, "paused");
    throw error;
  }
  for (;;) {
    const attempt = await recordUndriven(world, runId, (current) => {
      if (isTerminal(current) || current.status === "paused") return undefined;
      return { events: [{ type: "run_paused", data: {} }], answers: PAUSE_KINDS };
    });
    run = attempt.run;
    if (attempt.state === "done" || paused(run) || isTerminal(run)) break;
    // A worker drives the run: it reads the request and records it.
    run = (await waitForDriver(world, run, (r) => paused(r) || isTerminal(r))) ?? run;
    if (paused(run) || isTerminal(run)) break;
  }
  if (isTerminal(run)) throw new RunFinishedError(runId, run.status, "paused");
}

/**
 * Resumes the paused run `runId` in `world` (see `Run.resume`). Resolves once the resume is recorded. A run that is
 * still `pausing` (its steps in flight have not ended) goes on as if it had not been paused.
 * `RunNotFoundError`; `RunFinishedError` for a run that has ended; `RunNotPausedError` for a run
 * that is neither paused nor pausing.
 */
export async function resumeRun(world: World, runId: string): Promise<void> {
  let run = await world.runs.get(runId);
  let asked = false;
  for (;;) {
    if (isTerminal(run)) throw new RunFinishedError(runId, run.status, "resumed");
    if (run.status !== "paused" && run.status !== "pausing") {
      // Our request lifted the pause (a worker recorded it); else there was none to lift.
      if (asked) return;
      throw new RunNotPausedError(runId, run.status);
    }
    const attempt = await recordUndriven(world, runId, (current) => {
      if (current.status !== "paused" && current.status !== "pausing") return undefined;
      // Nobody drives it: resume it here, and wake it for a worker (what came due, what arrived).
      return { events: [{ type: "run_resumed", data: {} }], answers: RESUME_KINDS, wake: true };
    });
    run = attempt.run;
    if (attempt.state === "done") {
      if (run.status === "running") return;
      continue;
    }
    // A worker is carrying out the pause: ask it to lift it.
    if (!asked) {
      await world.inbox.put({ runId, kind: "resume" });
      asked = true;
    }
    // Until it does (status running), or its lease lapses (then we record the resume ourselves).
    const seen = await waitForDriver(
      world,
      run,
      (r) => isTerminal(r) || (r.status !== "pausing" && r.status !== "paused"),
    );
    run = seen ?? (await world.runs.get(runId));
  }
}

/**
 * Cancels the run `runId` in `world` (see `Run.cancel`). Resolves once the run has ended (at once if it had).
 * `RunNotFoundError` for an unknown id.
 */
export async function cancelRun(world: World, runId: string): Promise<void> {
  let run = await world.runs.get(runId);
  if (isTerminal(run)) return;
  try {
    await world.inbox.put({ runId, kind: "cancel" });
  } catch (error) {
    if (RunFinishedError.is(error)) return;
    throw error;
  }
  for (;;) {
    const attempt = await recordUndriven(world, runId, (current) => {
      if (isTerminal(current)) return undefined;
      // Nobody drives the run (it sleeps, waits or is paused): record the cancellation here.
      return { events: [{ type: "run_cancelled", data: { reason: "cancelled" } }], answers: CANCEL_KINDS };
    });
    run = attempt.run;
    if (attempt.state === "done" || isTerminal(run)) return;
    // A worker drives it and will see the request; wait for the end, or for its lease to go.
    run = (await waitForDriver(world, run, isTerminal)) ?? run;
    if (isTerminal(run)) return;
  }
}
