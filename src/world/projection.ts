/**
 * How events become projections, and the checks every append must pass, shared by all Worlds so
 * that they agree on both. A World applies the effects returned by `projectEvent` to its own tables,
 * in the same transaction as the append, and calls `checkAppend` before writing anything.
 */
import { ConflictError, LeaseLostError, RunFinishedError, SequenceConflictError } from "../errors/world.ts";
import { type EventRecord, TERMINAL_EVENT_TYPES, UPGRADED_SPEC_VERSION } from "./events.ts";
import {
  type AppendRequest,
  type HookRecord,
  type RunRecord,
  type StepRecord,
  TERMINAL_RUN_STATUSES,
  type WaitRecord,
} from "./types.ts";

export type RunPatch = Partial<Pick<RunRecord, "status" | "startedAt" | "completedAt" | "output" | "error">>;
export type StepPatch = Partial<
  Pick<StepRecord, "status" | "attempt" | "output" | "error" | "startedAt" | "completedAt" | "retryAt">
>;

export type ProjectionEffect =
  | { kind: "run.update"; set: RunPatch }
  /** Insert the step, or (on a later attempt) update it with `set`. */
  | { kind: "step.start"; step: StepRecord; set: StepPatch }
  | { kind: "step.update"; stepId: string; set: StepPatch }
  | { kind: "hook.create"; hook: HookRecord }
  | { kind: "hook.dispose"; hookId: string; at: number }
  /** Dispose every active hook of the run (it ended), freeing their tokens. */
  | { kind: "hooks.disposeAll"; at: number }
  | { kind: "wait.create"; wait: WaitRecord }
  /** The wait ended: its sleep or event came (`completed`), or an event wait timed out (`timed_out`). */
  | { kind: "wait.complete"; waitId: string; at: number; status: "completed" | "timed_out" }
  /** The run ended: every wait (sleep or event wait) still waiting becomes `cancelled` at `at`. */
  | { kind: "waits.cancelAll"; at: number }
  /**
   * The run begins again (`run_restarted`): status `pending`; `startedAt`, `completedAt`, `output`
   * and `error` cleared (the next generation's `run_started` sets `startedAt` again).
   */
  | { kind: "run.restart" }
  /**
   * A hook of the run listens again (a restart kept it): status `active`, `disposedAt` cleared.
   * `HookTokenConflictError` when another active hook holds its token meanwhile.
   */
  | { kind: "hook.rearm"; hookId: string }
  /** A wait of the run waits again (a restart kept it): status `waiting`, `completedAt` cleared. */
  | { kind: "wait.rearm"; waitId: string }
  /**
   * The run is pinned to another version of its code (`RunRecord.bundleHash`); with
   * `minSpecVersion`, its `specVersion` is raised to it if lower (never lowered).
   */
  | { kind: "run.version"; bundleHash: string; minSpecVersion?: number };

/** The projection changes one stored event implies. */
export function projectEvent(event: EventRecord): ProjectionEffect[] {
  const at = event.createdAt;
  switch (event.type) {
    case "run_created":
      return [];
    case "run_started": {
      const started: ProjectionEffect = { kind: "run.update", set: { status: "running", startedAt: at } };
      const { bundleHash } = event.data;
      return bundleHash === undefined ? [started] : [started, { kind: "run.version", bundleHash }];
    }
    case "step_started": {
      const { stepId, stepName, attempt } = event.data;
      const step: StepRecord = {
        runId: event.runId,
        stepId,
        stepName,
        status: "running",
        attempt,
        createdAt: at,
        startedAt: at,
        updatedAt: at,
      };
      if (event.payload !== undefined) step.input = event.payload;
      return [{ kind: "step.start", step, set: { status: "running", attempt, startedAt: at } }];
    }
    case "step_completed": {
      const set: StepPatch = { status: "completed", attempt: event.data.attempt, completedAt: at };
      if (event.payload !== undefined) set.output = event.payload;
      return [{ kind: "step.update", stepId: event.data.stepId, set }];
    }
    case "step_retrying": {
      const set: StepPatch = { status: "retrying", attempt: event.data.attempt, retryAt: event.data.retryAt };
      if (event.payload !== undefined) set.error = event.payload;
      return [{ kind: "step.update", stepId: event.data.stepId, set }];
    }
    case "step_failed": {
      const set: StepPatch = { status: "failed", attempt: event.data.attempt, completedAt: at };
      if (event.payload !== undefined) set.error = event.payload;
      return [{ kind: "step.update", stepId: event.data.stepId, set }];
    }
    case "wait_created":
      return [
        {
          kind: "wait.create",
          wait: {
            runId: event.runId,
            waitId: event.data.waitId,
            kind: "sleep",
            resumeAt: event.data.resumeAt,
            status: "waiting",
            createdAt: at,
          },
        },
      ];
    case "wait_completed":
      return [{ kind: "wait.complete", waitId: event.data.waitId, at, status: "completed" }];
    case "event_wait_created":
      return [
        {
          kind: "wait.create",
          wait: {
            runId: event.runId,
            waitId: event.data.waitId,
            kind: "event",
            eventType: event.data.eventType,
            resumeAt: event.data.timeoutAt,
            status: "waiting",
            createdAt: at,
          },
        },
      ];
    case "event_received":
      return [{ kind: "wait.complete", waitId: event.data.waitId, at, status: "completed" }];
    case "event_wait_timed_out":
      return [{ kind: "wait.complete", waitId: event.data.waitId, at, status: "timed_out" }];
    case "hook_created": {
      const hook: HookRecord = {
        runId: event.runId,
        hookId: event.data.hookId,
        token: event.data.token,
        kind: event.data.kind,
        status: "active",
        createdAt: at,
      };
      if (event.data.meta !== undefined) hook.meta = event.data.meta;
      return [{ kind: "hook.create", hook }];
    }
    case "hook_conflict":
    case "hook_received":
    case "step_unavailable":
      return [];
    case "hook_disposed":
      return [{ kind: "hook.dispose", hookId: event.data.hookId, at }];
    case "run_completed": {
      const set: RunPatch = { status: "completed", completedAt: at };
      if (event.payload !== undefined) set.output = event.payload;
      return [{ kind: "run.update", set }, ...endOfRun(at)];
    }
    case "run_failed": {
      const set: RunPatch = { status: "failed", completedAt: at };
      if (event.payload !== undefined) set.error = event.payload;
      return [{ kind: "run.update", set }, ...endOfRun(at)];
    }
    case "run_cancelled":
      return [{ kind: "run.update", set: { status: "cancelled", completedAt: at } }, ...endOfRun(at)];
    // A paused run keeps its hooks and waits: what arrives or comes due is delivered on resume.
    case "run_pausing":
      return [{ kind: "run.update", set: { status: "pausing" } }];
    case "run_paused":
      return [{ kind: "run.update", set: { status: "paused" } }];
    case "run_resumed":
      return [{ kind: "run.update", set: { status: "running" } }];
    case "run_restarted":
      return [
        { kind: "run.restart" },
        ...(event.data.hooks ?? []).map((hookId): ProjectionEffect => ({ kind: "hook.rearm", hookId })),
        ...(event.data.waits ?? []).map((waitId): ProjectionEffect => ({ kind: "wait.rearm", waitId })),
      ];
    case "run_upgraded":
      return [{ kind: "run.version", bundleHash: event.data.toHash, minSpecVersion: UPGRADED_SPEC_VERSION }];
  }
}

/**
 * What ending a run does to what it was waiting on, whichever way it ended: its hooks stop
 * listening (their tokens are free again) and its sleeps and event waits stop waiting (`inspect
 * sleeps` no longer lists a cancelled run's sleep as waiting).
 */
function endOfRun(at: number): ProjectionEffect[] {
  return [
    { kind: "hooks.disposeAll", at },
    { kind: "waits.cancelAll", at },
  ];
}

/**
 * Validates an append against the run as it is now, throwing the contract's error. The order of the
 * checks is part of the contract: finished, then lease, then sequence, then the batch's own shape.
 * An append that begins with `run_restarted` is the one append a run that ended accepts; a run
 * that has not ended refuses it with a `ConflictError` (a restart stops the run first), checked
 * after the sequence, so a restart that lost to another gets `SequenceConflictError`.
 */
export function checkAppend(run: RunRecord, request: AppendRequest): void {
  const ended = TERMINAL_RUN_STATUSES.has(run.status);
  const restart = request.events[0]?.type === "run_restarted";
  if (ended && !restart) throw new RunFinishedError(run.runId, run.status);
  if (request.owner !== undefined && run.lease !== undefined && run.lease.owner !== request.owner) {
    throw new LeaseLostError(`Run ${run.runId}`, request.owner, run.lease.owner);
  }
  if (run.seq !== request.expectedSeq)
    throw new SequenceConflictError(run.runId, request.expectedSeq, run.seq);
  // After the sequence: a restart that lost to another one sees the log moved, not the run begun.
  if (restart && !ended) {
    throw new ConflictError(
      `run_restarted cannot be appended to run ${run.runId}: it is ${run.status}, and a restart follows the end of a run (run.restart() stops it first).`,
    );
  }
  request.events.forEach((event, index) => {
    if (event.type === "run_created") {
      throw new ConflictError(`run_created cannot be appended to run ${run.runId}; runs.create writes it.`);
    }
    if (event.type === "run_restarted" && index !== 0) {
      throw new ConflictError(`run_restarted must be the first event of an append (run ${run.runId}).`);
    }
    if (TERMINAL_EVENT_TYPES.has(event.type) && index !== request.events.length - 1) {
      throw new ConflictError(`${event.type} must be the last event of an append (run ${run.runId}).`);
    }
  });
  if (request.releaseLease && request.owner === undefined) {
    throw new ConflictError("releaseLease needs the owner whose lease is released.");
  }
}

/** Applies a `run.version` effect to a run record (the memory World's table; the SQL Worlds' copy). */
export function applyRunVersion(
  run: RunRecord,
  effect: Extract<ProjectionEffect, { kind: "run.version" }>,
): void {
  run.bundleHash = effect.bundleHash;
  if (effect.minSpecVersion !== undefined && run.specVersion < effect.minSpecVersion)
    run.specVersion = effect.minSpecVersion;
}

/** True when `lease` is held by someone other than `owner` and has not expired at `now`. */
export function leaseBlocks(lease: RunRecord["lease"], owner: string, now: number): boolean {
  return lease !== undefined && lease.owner !== owner && lease.expiresAt > now;
}
