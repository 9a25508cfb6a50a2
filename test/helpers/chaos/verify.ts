/**
 * What a chaos test checks once the faults are over, read from the World's own data and the step
 * journal: every run completed with the right result; its log is gap-free, holds one terminal event
 * and each step's completion once; every hook payload sent was received and recorded exactly once;
 * every step execution a kill interrupted ran again, to its end, in another process. `verifyChaos`
 * gathers the figures and the problems; `summaryLine` prints them in one line for the CI output.
 */
import { eventPlace, places } from "../../../src/serde/places.ts";
import type { World } from "../../../src/world/types.ts";
import { type ChaosOutcome, patiently } from "./chaos-run.ts";
import { decodeStored } from "./decode.ts";
import type { ChaosPayload, HookCheck, HookLedger } from "./hook-ledger.ts";
import type { StepJournal } from "./step-journal.ts";
import type { KillReport } from "./worker-pool.ts";
import { type ChaosResult, expectedTotal, PAYLOADS_PER_HOOK, STEPS_PER_RUN } from "./workload.ts";

export interface ChaosFigures {
  runs: number;
  /** Runs that did not complete. */
  lost: number;
  events: number;
  /** Step completions recorded more than once (beyond the first). */
  recordedTwice: number;
  stepCompletions: number;
  /** Step executions the journal saw start (at least one per completion; more after kills). */
  executions: number;
  /** Step executions that SIGKILLs interrupted. */
  interrupted: number;
  /** Steps that processes which were never killed executed more than once (leases lost while alive). */
  rerunByLiveWorkers: number;
  hooks: HookCheck;
  /** Everything that is wrong, one line each; empty when the run held every guarantee. */
  problems: string[];
}

const TERMINAL_EVENTS = new Set(["run_completed", "run_failed", "run_cancelled"]);

/** Checks every run of `outcome` and the kills in `kills` against the World and the journal. */
export async function verifyChaos(
  world: World,
  outcome: ChaosOutcome,
  ledger: HookLedger,
  journal: StepJournal,
  kills: readonly KillReport[],
): Promise<ChaosFigures> {
  const problems: string[] = [];
  const received: string[] = [];
  const recorded: string[] = [];
  let events = 0;
  let stepCompletions = 0;
  let lost = 0;
  let recordedTwice = 0;
  for (const [runId, i] of outcome.runs) {
    const run = await patiently(() => world.runs.get(runId));
    const log = await patiently(() => world.events.list(runId, { limit: 100_000 }));
    events += log.length;
    if (log.some((event, k) => event.seq !== k + 1)) problems.push(`${runId}: its log has gaps`);
    const terminal = log.filter((event) => TERMINAL_EVENTS.has(event.type)).map((event) => event.type);
    if (terminal.join() !== "run_completed") problems.push(`${runId}: terminal events [${terminal.join()}]`);
    const completed = log.filter((e) => e.type === "step_completed").map((e) => e.data.stepId);
    stepCompletions += completed.length;
    const twice = completed.filter((stepId, k) => completed.indexOf(stepId) !== k);
    recordedTwice += twice.length;
    if (twice.length > 0) problems.push(`${runId}: step completions recorded twice: ${twice.join(", ")}`);
    if (completed.length !== STEPS_PER_RUN)
      problems.push(`${runId}: ${completed.length} step completions, expected ${STEPS_PER_RUN}`);
    for (const event of log) {
      if (event.type === "hook_received" && event.payload !== undefined)
        recorded.push((decodeStored(run, eventPlace(event), event.payload) as ChaosPayload).nonce);
    }
    if (run.status !== "completed" || run.output === undefined) {
      problems.push(`${runId} (run ${i}): ${run.status}, not completed`);
      lost += 1;
      continue;
    }
    const result = decodeStored(run, places.runOutput, run.output) as ChaosResult;
    received.push(...result.nonces);
    if (result.total !== expectedTotal(i) || result.nonces.length !== PAYLOADS_PER_HOOK)
      problems.push(
        `${runId} (run ${i}): returned ${JSON.stringify(result)}, expected total ${expectedTotal(i)}`,
      );
  }

  const hooks = ledger.check(received, recorded);
  for (const [what, nonces] of Object.entries({
    "hook payloads acknowledged but never received": hooks.lost,
    "hook payloads received twice": hooks.receivedTwice,
    "hook payloads recorded twice": hooks.recordedTwice,
    "hook payloads sent but not recorded once": hooks.notRecorded,
    "hook payloads received that were never sent": hooks.neverSent,
  })) {
    if (nonces.length > 0) problems.push(`${nonces.length} ${what}: ${nonces.slice(0, 10).join(", ")}`);
  }

  // Every interrupted execution ran again, to its end, somewhere else.
  journal.refresh();
  const finishedBy = new Map<string, Set<number>>();
  for (const e of journal.finished) {
    const k = `${e.runId} ${e.stepId}`;
    finishedBy.set(k, (finishedBy.get(k) ?? new Set()).add(e.pid));
  }
  const interrupted = kills.flatMap((kill) => kill.interrupted);
  for (const e of interrupted) {
    const pids = finishedBy.get(`${e.runId} ${e.stepId}`) ?? new Set();
    if (![...pids].some((pid) => pid !== e.pid))
      problems.push(`${e.runId} ${e.stepId}: interrupted in ${e.pid} and never run to its end elsewhere`);
  }
  // Steps executed more than once by processes that were not killed: a lease lost by a live
  // worker (expired under load, or taken from it). At-least-once allows it; the figure is printed.
  const killed = new Set(kills.map((kill) => kill.pid));
  const survivors = new Map<string, number>();
  for (const e of journal.started) {
    if (killed.has(e.pid)) continue;
    const k = `${e.runId} ${e.stepId}`;
    survivors.set(k, (survivors.get(k) ?? 0) + 1);
  }
  const rerunByLiveWorkers = [...survivors.values()].filter((n) => n > 1).length;
  return {
    runs: outcome.runs.size,
    lost,
    events,
    recordedTwice,
    stepCompletions,
    executions: journal.started.length,
    interrupted: interrupted.length,
    rerunByLiveWorkers,
    hooks,
    problems,
  };
}

/** One line a human can read in CI output: the faults that landed and what was checked. */
export function summaryLine(
  label: string,
  outcome: ChaosOutcome,
  figures: ChaosFigures,
  ledger: HookLedger,
): string {
  const hooks = figures.hooks;
  const twice = new Set([...hooks.receivedTwice, ...hooks.recordedTwice]).size;
  const faults = outcome.faults.map((f) => `${f.landed} ${f.name} (${f.tries} tries)`).join(", ");
  return (
    `${label} in ${Math.round(outcome.seconds)} s: ${faults}; ` +
    `${figures.runs} runs, ${figures.lost} lost (${outcome.startErrors} starts failed, ${outcome.orphans} of them created their run); ` +
    `${figures.stepCompletions} step completions in ${figures.events} events, ${figures.recordedTwice} recorded twice; ` +
    `${figures.executions} step executions, ${figures.interrupted} of them interrupted by kills, ` +
    `${figures.rerunByLiveWorkers} steps run more than once by workers never killed; ` +
    `${figures.hooks.sent} hook payloads sent, ${hooks.lost.length} lost, ${twice} delivered twice ` +
    `(${ledger.errors} resumes failed: ${ledger.storedDespiteError.size} stored anyway, ${ledger.forgotten} not stored and re-sent); ` +
    `${figures.problems.length} problems`
  );
}
