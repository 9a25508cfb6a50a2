/**
 * A run's machine, rebuilt from its log with the workflow code registered in this process: the
 * worker replays a run this way before driving it, and `replay --check` to see whether the
 * current code still replays a stored run (`ops/replay-check.ts`). Replaying runs the workflow in
 * its sandbox and delivers the recorded outcomes; it executes no step and writes nothing.
 */
import type { PayloadCodec } from "../serde/payload.ts";
import { places } from "../serde/places.ts";
import type { EventRecord } from "../world/events.ts";
import type { RunRecord } from "../world/types.ts";
import type { Limits } from "./limits.ts";
import { RunMachine } from "./machine.ts";
import { getWorkflowBundle, type WorkflowBundle } from "./registry.ts";

export interface ReplayContext {
  payloads: PayloadCodec;
  limits: Limits;
  /** The clock the machine stamps events with (default the wall clock; a test env's virtual one). */
  now?: () => number;
  /**
   * The bundle to replay with: a worker passes the version the run is pinned to
   * (`bundles.ts`); by default the workflow's registered one (what `replay --check` tests).
   */
  bundle?: WorkflowBundle;
  /** Where workflow console output is printed (default: the console); output the log already holds is not printed again. */
  log?: (level: string, args: unknown[]) => void;
}

/**
 * A fresh machine for `run`, replayed from `events` (its whole log) and left live at the log's
 * end. Throws if the run's workflow is not registered here; a payload this process cannot read
 * throws `PayloadDecryptionError`.
 */
export async function replayRun(
  run: RunRecord,
  events: readonly EventRecord[],
  context: ReplayContext,
  now: number = Date.now(),
): Promise<RunMachine> {
  const bundle = context.bundle ?? getWorkflowBundle(run.workflowName);
  if (bundle === undefined) throw new Error(`workflow ${run.workflowName} is not registered`);
  const machine = new RunMachine({
    run: { runId: run.runId, workflowName: run.workflowName, createdAt: run.createdAt, seed: run.seed },
    workflowId: run.workflowName,
    bundle,
    input: context.payloads.decode(run, places.runInput, run.input),
    payloads: context.payloads,
    scope: { runId: run.runId, encrypted: run.encrypted, specVersion: run.specVersion },
    payloadBytes: run.payloadBytes,
    limits: context.limits,
    ...(context.log === undefined ? {} : { log: context.log }),
    ...(context.now === undefined ? {} : { now: context.now }),
  });
  await machine.replay(events, now);
  return machine;
}
