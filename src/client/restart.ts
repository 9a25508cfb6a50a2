/**
 * `run.restart()`: the run starts again under the same id, from the beginning or from the n-th
 * call of a step, keeping what came before that call (`runtime/generations.ts`). The log is never
 * rewritten: a `run_restarted` event begins the run's next generation after the previous one's end.
 *
 * A run that has not ended is stopped first, the way `cancel()` stops it: a `restart` request in
 * its inbox makes the worker driving it abort its steps and record `run_cancelled` (reason
 * "restart"); a run nobody drives (it sleeps or waits) is stopped here, under a short lease. Then,
 * still under that lease, the restart is appended, fenced on the log's sequence number, together
 * with the `start` message that makes a worker drive the new generation. Of concurrent restarts
 * one lands; the others get `RestartConflictError` and record nothing in the log (a restart
 * request they left in the inbox names the generation it stops, and a driver drops it once that
 * generation is over).
 */
import { RestartConflictError } from "../errors/restart.ts";
import {
  HookNotFoundError,
  HookTokenConflictError,
  RunFinishedError,
  SequenceConflictError,
} from "../errors/world.ts";
import { letGoOfRun } from "../runtime/let-go.ts";
import {
  checkRestartPoint,
  planRestart,
  type RestartPlan,
  type RestartPoint,
  restartedData,
} from "../runtime/restart-plan.ts";
import { newOwnerId } from "../util/owner.ts";
import type { EventRecord } from "../world/events.ts";
import { CONTROL_REQUEST_KINDS, type RunRecord, TERMINAL_RUN_STATUSES, type World } from "../world/types.ts";
import type { ClientContext } from "./context.ts";
import { waitForRun } from "./watch.ts";

/** How long a restart holds the run's lease while it stops the run and records the restart. */
const RESTART_LEASE_MS = 10_000;

export interface RestartOptions {
  /** Restart from the `occurrence`-th call (default the first) of this step; the beginning when omitted. */
  from?: RestartPoint;
}

/** What a restart did. */
export interface RestartedRun {
  runId: string;
  /** The generation the restart began (the run's first generation is 1). */
  generation: number;
  /** How many of the previous generation's calls were kept (0: from the beginning). */
  keptCalls: number;
  /** The full id of the step restarted from, and which of its calls; absent for a full restart. */
  step?: string;
  occurrence?: number;
}

const ended = (run: Pick<RunRecord, "status">): boolean => TERMINAL_RUN_STATUSES.has(run.status);

/** The generation a log is in (1 before its first restart). */
function generationOf(log: readonly EventRecord[]): number {
  let generation = 1;
  for (const event of log) if (event.type === "run_restarted") generation = event.data.generation;
  return generation;
}

function restartedMeanwhile(runId: string): RestartConflictError {
  return new RestartConflictError(
    runId,
    "restarted-meanwhile",
    `Run ${runId} was restarted by another call meanwhile; this restart wrote nothing. Look at the run (npx stepwise inspect runs ${runId}) and restart it again if you still mean to.`,
  );
}

/** Refuses a plan whose kept hooks' tokens another run's active hook holds now. */
async function checkKeptHooks(world: World, runId: string, plan: RestartPlan): Promise<void> {
  for (const { token } of plan.hooks) {
    let holder: string;
    try {
      holder = (await world.hooks.getByToken(token)).runId;
    } catch (error) {
      if (HookNotFoundError.is(error)) continue;
      throw error;
    }
    if (holder !== runId) throw hookTaken(runId, token, holder);
  }
}

function hookTaken(runId: string, token: string, holder: string | undefined): RestartConflictError {
  return new RestartConflictError(
    runId,
    "hook-token-taken",
    `Run ${runId} cannot be restarted from there: a hook it keeps listened on token "${token}", which ${holder === undefined ? "another hook" : `run ${holder}`} holds now. Restart it from an earlier step (or the beginning), or end that run's hook first.`,
  );
}

/**
 * Restarts the run `runId` in `context`'s World (see the file header). Errors: `RunNotFoundError`;
 * `InvalidRestartPointError` for a malformed `from`; `RestartStepNotFoundError` when the run never
 * called that step (or not that often); `RestartConflictError` when another restart landed first,
 * or a kept hook's token is taken. None of them records anything in the run's log, except a kept
 * hook's token taken between the check made first and the restart's append: the run was stopped
 * by then, and stays stopped.
 */
export async function restartRun(
  context: ClientContext,
  runId: string,
  options: RestartOptions = {},
): Promise<RestartedRun> {
  const from = checkRestartPoint(options.from);
  const world = await context.world();
  await world.runs.get(runId); // RunNotFoundError before anything else
  const firstLog = await world.events.list(runId);
  const generation = generationOf(firstLog);
  // Checked before anything is written (the restart's own append checks again).
  await checkKeptHooks(world, runId, planRestart(runId, firstLog, from));
  let asked = false;
  const owner = newOwnerId();
  for (;;) {
    const taken = await world.runs.acquire(runId, owner, RESTART_LEASE_MS);
    if (!taken.acquired) {
      // A worker drives the run: ask it to stop, then wait for the end or for its lease to lapse.
      if (!asked && !ended(taken.run)) {
        asked = true;
        try {
          await world.inbox.put({ runId, kind: "restart", generation });
        } catch (error) {
          if (!RunFinishedError.is(error)) throw error;
        }
      }
      await waitForLease(world, runId, taken.run);
      continue;
    }
    try {
      const result = await restartLeased(world, runId, owner, taken.run, generation, from);
      await context.used();
      return result;
    } catch (error) {
      await world.runs.release(runId, owner).catch(() => undefined);
      throw error;
    }
  }
}

/** Under the lease: stops the run if nobody did, then appends the restart. */
async function restartLeased(
  world: World,
  runId: string,
  owner: string,
  leased: RunRecord,
  generation: number,
  from: RestartPoint | undefined,
): Promise<RestartedRun> {
  let run: Pick<RunRecord, "status" | "seq"> = leased;
  let log = await world.events.list(runId);
  if (generationOf(log) !== generation || log.length !== run.seq) throw restartedMeanwhile(runId);
  const control = async (): Promise<string[]> =>
    (await world.inbox.list(runId))
      // Every control asked of the run before now is answered: the new generation starts afresh.
      .filter((item) => CONTROL_REQUEST_KINDS.has(item.kind))
      .map((item) => item.itemId);
  if (!ended(run)) {
    // Nobody drives the run (it sleeps or waits): stop it here, keeping the lease.
    const stopped = await world.events.append({
      runId,
      expectedSeq: run.seq,
      owner,
      events: [{ type: "run_cancelled", data: { reason: "restart" } }],
      consumeInbox: await control(),
    });
    run = stopped.run;
    log = [...log, ...stopped.events];
  }
  const plan = planRestart(runId, log, from);
  const data: RestartedRun = { runId, generation: plan.generation, keptCalls: plan.fromCall };
  if (plan.step !== undefined) data.step = plan.step;
  if (plan.occurrence !== undefined) data.occurrence = plan.occurrence;
  try {
    const appended = await world.events.append({
      runId,
      expectedSeq: run.seq,
      owner,
      events: [{ type: "run_restarted", data: restartedData(plan) }],
      enqueue: [{ runId, kind: "start" }],
      consumeInbox: await control(),
      releaseLease: true,
    });
    // Someone asked for the run meanwhile: the lease stayed; let go (and wake whoever asked).
    if (appended.leaseReleased === false) await letGoOfRun(world, runId, owner, true);
  } catch (error) {
    if (SequenceConflictError.is(error)) throw restartedMeanwhile(runId);
    if (HookTokenConflictError.is(error)) {
      const conflict = error as HookTokenConflictError;
      throw hookTaken(runId, conflict.token, conflict.heldByRunId);
    }
    throw error;
  }
  return data;
}

/** Waits until the run's lease may be free: it ended and was let go, or the lease lapsed. */
async function waitForLease(world: World, runId: string, seen: RunRecord): Promise<void> {
  const expiresAt = seen.lease?.expiresAt ?? Date.now();
  await waitForRun(
    world,
    runId,
    (run) => ended(run) !== ended(seen) || run.lease === undefined || run.seq !== seen.seq,
    // Leases are not notified: look again when it would lapse (a second at most).
    { timeoutMs: Math.max(50, Math.min(1_000, expiresAt - Date.now() + 50)) },
  );
}
