/**
 * Drives a chaos test. Runs of the chaos workload are started at a steady pace from the test
 * process while a `HookLedger` sends their hook payloads and each kind of fault fires, after a
 * random pause, until its quota of faults that landed is met. Starting goes on until there are at
 * least `minRuns` runs AND every quota is met (at most `maxRuns`), so faults always find steps to
 * land in however fast or slow the machine is; then the faults stop and every run is given time to
 * finish. Each phase has a deadline whose error says what was missing. Starts whose answer was
 * lost (the call threw) may have created a run anyway: those runs are found in the World and held
 * to the same checks.
 */
import { start } from "../../../src/api/index.ts";
import { places } from "../../../src/serde/places.ts";
import type { RunRecord, World } from "../../../src/world/types.ts";
import { decodeStored } from "./decode.ts";
import type { HookLedger } from "./hook-ledger.ts";
import { chaosWorkflow } from "./workload.ts";

/** One kind of fault, fired again and again until `quota` of them landed. */
export interface Fault {
  /** What a landed one is, for the messages: "SIGKILLs inside a step". */
  name: string;
  /** How many must land. */
  quota: number;
  /** The pause before each try, drawn between these (ms). */
  gapMs: readonly [number, number];
  /** Fires once; resolves to how many faults landed (0 if none did). */
  fire(): Promise<number>;
}

export interface ChaosPlan {
  world: World;
  ledger: HookLedger;
  faults: readonly Fault[];
  minRuns: number;
  maxRuns: number;
  runsPerSecond: number;
  /** Time for the faults to meet their quotas, from the start. */
  faultsWithinMs: number;
  /** Time for every run to finish once the faults are over. */
  finishWithinMs: number;
}

export interface FaultTally {
  name: string;
  tries: number;
  landed: number;
  errors: string[];
}

export interface ChaosOutcome {
  /** Every run of the workload in the World, with its index. */
  runs: Map<string, number>;
  /** start() calls that threw; `orphans` of them had created a run all the same. */
  startErrors: number;
  orphans: number;
  faults: FaultTally[];
  seconds: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries a call while the World is briefly unavailable (restarts, dropped connections). */
export async function patiently<T>(call: () => Promise<T>, tries = 60): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= tries) throw error;
      await pause(250);
    }
  }
}

/** Every run in the World, all pages. */
export async function allRuns(world: World): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await patiently(() => world.runs.list({ limit: 1000, ...(cursor ? { cursor } : {}) }));
    runs.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return runs;
}

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

/** Runs the plan: load, faults until their quotas, then every run to its end. Throws on a missed deadline. */
export async function runChaos(plan: ChaosPlan): Promise<ChaosOutcome> {
  const began = Date.now();
  const faultDeadline = began + plan.faultsWithinMs;
  const runs = new Map<string, number>();
  const tallies = plan.faults.map((f) => ({ name: f.name, tries: 0, landed: 0, errors: [] as string[] }));
  const quotasMet = () => plan.faults.every((f, k) => (tallies[k]?.landed ?? 0) >= f.quota);
  let startErrors = 0;
  let loadOver = false;

  const starter = (async () => {
    for (let i = 0; i < plan.maxRuns && Date.now() < faultDeadline; i++) {
      if (runs.size >= plan.minRuns && quotasMet()) break;
      await pause(began + (i * 1000) / plan.runsPerSecond - Date.now());
      try {
        runs.set((await start(chaosWorkflow, [i])).runId, i);
      } catch {
        startErrors += 1; // a fresh index next time: this one's run may exist (found below)
      }
    }
  })();
  const resumer = (async () => {
    while (!loadOver) {
      await plan.ledger.tick();
      await pause(50);
    }
  })();
  const faulting = plan.faults.map(async (fault, k) => {
    const tally = tallies[k]!;
    while (tally.landed < fault.quota && Date.now() < faultDeadline) {
      const [low, high] = fault.gapMs;
      await pause(low + Math.random() * (high - low));
      tally.tries += 1;
      try {
        tally.landed += await fault.fire();
      } catch (error) {
        tally.errors.push((error as Error).message);
      }
    }
  });

  try {
    await Promise.all([starter, ...faulting]);
    const faultSummary = tallies.map((t) => `${t.landed} of ${t.tries} ${t.name}`).join(", ");
    if (!quotasMet()) {
      throw new Error(
        `The faults did not all land within ${plan.faultsWithinMs / 1000} s (${runs.size} runs started): ` +
          `${faultSummary} (quotas: ${plan.faults.map((f) => `${f.quota} ${f.name}`).join(", ")}). ` +
          `The machine may be too loaded for the schedule; errors: ${tallies.flatMap((t) => t.errors).join("; ") || "none"}.`,
      );
    }
    // Runs created by starts that threw.
    let orphans = 0;
    for (const run of await allRuns(plan.world)) {
      if (runs.has(run.runId)) continue;
      runs.set(run.runId, (decodeStored(run, places.runInput, run.input) as [number])[0]);
      orphans += 1;
    }
    await waitForEnd(plan.world, [...runs.keys()], Date.now() + plan.finishWithinMs, faultSummary);
    return { runs, startErrors, orphans, faults: tallies, seconds: (Date.now() - began) / 1000 };
  } finally {
    loadOver = true;
    await resumer;
  }
}

/** Waits until every run has ended; past the deadline, throws naming the runs left and their state. */
async function waitForEnd(world: World, runIds: string[], deadline: number, faults: string): Promise<void> {
  let remaining = runIds;
  while (remaining.length > 0) {
    const states = await Promise.all(
      remaining.map(async (runId) => patiently(() => world.runs.get(runId)).then((run) => run)),
    );
    remaining = states.filter((run) => !TERMINAL.has(run.status)).map((run) => run.runId);
    if (remaining.length === 0) return;
    if (Date.now() > deadline) {
      const sample = states
        .filter((run) => !TERMINAL.has(run.status))
        .slice(0, 10)
        .map((run) => `${run.runId} (${run.status}, seq ${run.seq}, lease ${run.lease?.owner ?? "none"})`);
      throw new Error(
        `${remaining.length} of ${runIds.length} runs did not finish in time after the faults (${faults}): ${sample.join(", ")}`,
      );
    }
    await pause(300);
  }
}
