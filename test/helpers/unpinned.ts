/**
 * A run as Stepwise wrote it before runs were pinned to their workflow code: its `run_created`
 * and `run_started` name no bundle, so every worker replays it with the code it has (what a
 * deploy did to every run before pinning). For tests of what a replay does when that code has
 * changed under the run. Call it before anything starts the in-process worker: the run is
 * created, marked started, and only then is the worker started.
 */
import { ensureWorker, getPayloadCodec, getWorld } from "../../src/process/process.ts";
import { SPEC_VERSION } from "../../src/runtime/version.ts";
import { encodeValue } from "../../src/serde/codec.ts";
import { places } from "../../src/serde/places.ts";
import { newId, newRunSeed } from "../../src/util/ids.ts";

/** Starts a run of `workflowId` with `args` that is not pinned to any bundle; returns its id. */
export async function startUnpinned(workflowId: string, args: unknown[] = []): Promise<string> {
  const world = await getWorld();
  const runId = newId("wrun");
  const scope = { runId, encrypted: false, specVersion: SPEC_VERSION };
  const run = await world.runs.create({
    runId,
    workflowName: workflowId,
    specVersion: SPEC_VERSION,
    seed: newRunSeed(),
    encrypted: false,
    input: getPayloadCodec().encode(scope, places.runInput, encodeValue(args)),
  });
  await world.events.append({ runId, expectedSeq: run.seq, events: [{ type: "run_started", data: {} }] });
  await ensureWorker();
  return runId;
}
