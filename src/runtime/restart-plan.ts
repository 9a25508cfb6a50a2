/**
 * Where a restart begins, computed from the run's log: the call index of the n-th call of a step
 * in the run's current generation (0 for a restart from the beginning), and what the next
 * generation keeps of it (`generations.ts`): the hooks that listen again and the sleeps and event
 * waits that wait again. Pure: the client (`client/restart.ts`) reads the log and writes the
 * `run_restarted` this describes.
 */
import { InvalidRestartPointError, RestartStepNotFoundError } from "../errors/restart.ts";
import type { EventDataMap, EventRecord } from "../world/events.ts";
import { generationsOf, keptEvents } from "./generations.ts";
import { planEvents, planReplay } from "./replay-plan.ts";

/** Where to restart from: the `occurrence`-th call (from 1; default 1) of the step named `step`. */
export interface RestartPoint {
  /** The step's name as the workflow's file names it (`charge`), or its full id. */
  step: string;
  occurrence?: number;
}

export interface RestartPlan {
  /** The generation the restart begins. */
  generation: number;
  /** The calls below this index are kept. */
  fromCall: number;
  /** The full id of the step restarted from, and which of its calls (absent for a full restart). */
  step?: string;
  occurrence?: number;
  /** Kept hooks that listen again, with their tokens (they must still be free). */
  hooks: { hookId: string; token: string }[];
  /** Kept sleeps and event waits that wait again. */
  waits: string[];
}

/** Checks a restart point a caller gave (API, HTTP body, CLI), throwing `InvalidRestartPointError`. */
export function checkRestartPoint(from: unknown): RestartPoint | undefined {
  if (from === undefined) return undefined;
  if (typeof from !== "object" || from === null)
    throw new InvalidRestartPointError(
      'A restart point is an object such as { step: "charge" } or { step: "charge", occurrence: 2 }.',
    );
  const { step, occurrence, ...rest } = from as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    throw new InvalidRestartPointError(
      `A restart point has a step and an occurrence, nothing else (it has ${unknown.map((key) => JSON.stringify(key)).join(", ")}).`,
    );
  if (typeof step !== "string" || step.length === 0 || step.length > 500)
    throw new InvalidRestartPointError(
      `The restart point's step must be the name of a step the run called (a non-empty string, e.g. "charge"), not ${JSON.stringify(step) ?? String(step)}.`,
    );
  if (occurrence !== undefined && !(Number.isSafeInteger(occurrence) && (occurrence as number) >= 1))
    throw new InvalidRestartPointError(
      `The restart point's occurrence says which call of step "${step}" to restart from: 1 for its first call (the default), 2 for its second, and so on; not ${JSON.stringify(occurrence) ?? String(occurrence)}.`,
    );
  return occurrence === undefined ? { step } : { step, occurrence: occurrence as number };
}

/** Whether the step id `name` (`step//workflows/order.ts//charge`) is the step a person calls `query`. */
function stepMatches(name: string, query: string): boolean {
  return name === query || name.endsWith(`//${query}`);
}

function shortStepName(name: string): string {
  const at = name.lastIndexOf("//");
  return at === -1 ? name : name.slice(at + 2);
}

/**
 * Plans a restart of run `runId` whose log is `log`, from `from` (or the beginning). Throws
 * `RestartStepNotFoundError` (listing the steps the run did call) when the current generation
 * never made that call.
 */
export function planRestart(runId: string, log: readonly EventRecord[], from?: RestartPoint): RestartPlan {
  const current = planReplay(log);
  let fromCall = 0;
  const plan: RestartPlan = { generation: current.generation + 1, fromCall, hooks: [], waits: [] };
  if (from !== undefined) {
    const occurrence = from.occurrence ?? 1;
    const calls = current.calls.flatMap((call, index) =>
      call.kind === "step" && stepMatches(call.name, from.step) ? [{ call, index }] : [],
    );
    const hit = calls[occurrence - 1];
    if (hit === undefined || hit.call.kind !== "step") {
      const called = [
        ...new Set(current.calls.flatMap((call) => (call.kind === "step" ? [shortStepName(call.name)] : []))),
      ];
      throw new RestartStepNotFoundError(runId, from.step, occurrence, calls.length, called);
    }
    fromCall = hit.index;
    Object.assign(plan, { fromCall, step: hit.call.name, occurrence });
  }
  const kept = keptEvents(generationsOf(log).events, fromCall);
  for (const call of planEvents(kept, kept.length).calls) {
    if (call.kind === "hook" && !call.disposed) plan.hooks.push({ hookId: call.id, token: call.token });
    if ((call.kind === "sleep" || call.kind === "event") && call.status === "waiting")
      plan.waits.push(call.id);
  }
  return plan;
}

/** The `run_restarted` event data of a plan. */
export function restartedData(plan: RestartPlan): EventDataMap["run_restarted"] {
  const data: EventDataMap["run_restarted"] = { generation: plan.generation, fromCall: plan.fromCall };
  if (plan.step !== undefined) data.step = plan.step;
  if (plan.occurrence !== undefined) data.occurrence = plan.occurrence;
  if (plan.hooks.length > 0) data.hooks = plan.hooks.map((hook) => hook.hookId);
  if (plan.waits.length > 0) data.waits = plan.waits;
  return data;
}
