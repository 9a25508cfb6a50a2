/**
 * What a run is doing, in words a person understands, computed from the World's records. The World
 * stores a suspended run as `running`: it has not ended. Shown that way, a run asleep for a week
 * and a run stuck on a hook look alike, and both look busy. So a `running` run that no worker holds
 * is looked at more closely: waiting on a hook or an event (`waiting`, for which token or event
 * type, and until when if the wait has a timeout), on a sleep (`sleeping`, until when), or on a
 * step's next attempt (`retrying`), or on a worker that has the code of a step it calls
 * (`waiting`, `step_unavailable` last in its log: a deploy removed or renamed the step). A run a
 * worker holds is `running`; the other statuses are shown as stored (`pausing` with what it waits
 * for: its steps in flight).
 * `inspect` (tables and `--json`) and `start --wait` show this.
 */
import type { RunRecord, RunStatus, World } from "../world/types.ts";
import { formatTime, shortName } from "./table.ts";

/** The status shown for a run: the stored one, or what a suspended running run waits for. */
export type ShownStatus = RunStatus | "sleeping" | "waiting" | "retrying";

export interface RunState {
  status: ShownStatus;
  /**
   * Epoch ms. sleeping: when the earliest sleep ends; waiting: when the earliest sleep beside the
   * hook ends, or the earliest event wait times out, if there is one; retrying: when the step's
   * next attempt is due.
   */
  until?: number;
  /** waiting: the tokens of the active hooks. */
  tokens?: string[];
  /** waiting: the event types its `waitForEvent`s wait for, in the order it made them. */
  events?: string[];
  /** waiting: the step it calls that the worker which last took it does not have the code of. */
  code?: { stepId: string; stepName: string };
  /** retrying: the step waiting for its next attempt, and that attempt's number. */
  step?: { stepId: string; stepName: string; nextAttempt: number };
}

/**
 * The run's shown status. Reads nothing more for a run that has ended, is pending, or is held by a
 * worker whose lease has not run out (`now`, default the wall clock); otherwise reads its active
 * hooks and waiting sleeps and event waits, and only if there are none, its steps.
 */
export async function runState(world: World, run: RunRecord, now: number = Date.now()): Promise<RunState> {
  if (run.status !== "running") return { status: run.status };
  if (run.lease !== undefined && run.lease.expiresAt > now) return { status: "running" };
  const [last] = await world.events.list(run.runId, { afterSeq: run.seq - 1, limit: 1 });
  if (last?.type === "step_unavailable") return { status: "waiting", code: last.data };
  const [hooks, waits] = await Promise.all([
    world.hooks.list({ runId: run.runId, status: "active" }),
    world.waits.list({ runId: run.runId, status: "waiting" }),
  ]);
  const earliest = waits.reduce<number | undefined>(
    (min, wait) => (min === undefined || wait.resumeAt < min ? wait.resumeAt : min),
    undefined,
  );
  const events = waits.flatMap((wait) => (wait.kind === "event" ? [wait.eventType ?? ""] : []));
  if (hooks.length > 0 || events.length > 0) {
    const state: RunState = { status: "waiting" };
    if (hooks.length > 0) state.tokens = hooks.map((hook) => hook.token);
    if (events.length > 0) state.events = events;
    if (earliest !== undefined) state.until = earliest;
    return state;
  }
  if (earliest !== undefined) return { status: "sleeping", until: earliest };
  const retrying = (await world.steps.list(run.runId))
    .filter((step) => step.status === "retrying")
    .sort((a, b) => (a.retryAt ?? 0) - (b.retryAt ?? 0))[0];
  if (retrying === undefined) return { status: "running" };
  const state: RunState = {
    status: "retrying",
    step: { stepId: retrying.stepId, stepName: retrying.stepName, nextAttempt: retrying.attempt + 1 },
  };
  if (retrying.retryAt !== undefined) state.until = retrying.retryAt;
  return state;
}

/**
 * One line for a run state: `sleeping until 2026-05-01T09:00:00Z`, `waiting for hook approve-42`,
 * `waiting for event payment.received until …`,
 * `retrying charge (attempt 2 at …)`, or the status alone. `name` shortens the step's name.
 */
export function describeRunState(state: RunState, name: (id: string) => string = (id) => id): string {
  const until = state.until === undefined ? "" : ` until ${formatTime(state.until)}`;
  switch (state.status) {
    case "sleeping":
      return `sleeping${until}`;
    case "waiting": {
      if (state.code !== undefined)
        return `waiting for a worker that has step ${name(state.code.stepName)} (not in the code of the worker that took it)`;
      const tokens = state.tokens ?? [];
      const events = state.events ?? [];
      const what = [
        ...(tokens.length === 0 ? [] : [`hook${tokens.length === 1 ? "" : "s"} ${tokens.join(", ")}`]),
        ...(events.length === 0 ? [] : [`event${events.length === 1 ? "" : "s"} ${events.join(", ")}`]),
      ];
      return `waiting for ${what.join(" and ")}${until}`;
    }
    case "retrying":
      return state.step === undefined
        ? "retrying"
        : `retrying ${name(state.step.stepName)} (attempt ${state.step.nextAttempt}${state.until === undefined ? "" : ` at ${formatTime(state.until)}`})`;
    case "pausing":
      // Cloudflare's waitingForPause.
      return "pausing (waiting for its steps in flight to end)";
    default:
      return state.status;
  }
}

/**
 * One line for `start --wait`'s progress: the run's shown status and, while a worker drives it,
 * the steps executing (`running step charge (attempt 2)`).
 */
export async function describeProgress(world: World, runId: string): Promise<string> {
  const run = await world.runs.get(runId);
  const state = await runState(world, run);
  if (state.status !== "running") return describeRunState(state, shortName);
  const executing = (await world.steps.list(runId)).filter((step) => step.status === "running");
  if (executing.length === 0) return "running";
  const names = executing.slice(0, 3).map((step) => `${shortName(step.stepName)} (attempt ${step.attempt})`);
  const more = executing.length > 3 ? ` and ${executing.length - 3} more` : "";
  return `running step${executing.length === 1 ? "" : "s"} ${names.join(", ")}${more}`;
}
