/**
 * Letting go of a run's lease when others may have asked for the run meanwhile. A release is
 * refused while the run's `wakePending` flag is set (someone asked for the run while it was
 * held), and the refusal clears the flag; so a holder that means to let go releases until it is
 * free. Whoever asked and found the run leased (a worker with a message) waits for the lease to
 * lapse, so a holder that was asked wakes the run once it is free: a `wake` message now.
 */
import type { World } from "../world/types.ts";

/** More refusals than this mean something keeps asking: the lease is then left to lapse. */
const MAX_TRIES = 20;

/**
 * Releases `owner`'s lease of `runId`, trying again after each refusal. Returns whether anyone
 * had asked for the run (a refusal, or `asked`: an append that kept the lease), in which case it
 * has also enqueued a wake-up for them.
 */
export async function letGoOfRun(
  world: World,
  runId: string,
  owner: string,
  asked = false,
): Promise<boolean> {
  let wanted = asked;
  for (let tries = 0; tries < MAX_TRIES && !(await world.runs.release(runId, owner)); tries++) wanted = true;
  if (wanted) await world.queue.enqueue([{ runId, kind: "wake", dedupeKey: `let-go:${runId}` }]);
  return wanted;
}
