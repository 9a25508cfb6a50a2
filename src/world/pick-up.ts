/**
 * Picking a run up: take its lease and read what a worker replays from (its log and its inbox).
 * A World may do it in one call (`World.runs.pickUp`, the remote World: one network round trip
 * instead of three); `pickUpRun` uses that when the World has it and makes the three calls
 * otherwise, and the engine server answers the protocol's `runs/pick-up` with it.
 */
import { type PickUpResult, TERMINAL_RUN_STATUSES, type World } from "./types.ts";

/**
 * Acquires `runId` for `owner` and, when acquired and not ended, reads its inbox and — unless its
 * `seq` is `knownSeq` — its log. The inbox is read beside the log; both after the acquire.
 */
export async function pickUpRun(
  world: World,
  runId: string,
  owner: string,
  leaseMs: number,
  knownSeq?: number,
): Promise<PickUpResult> {
  if (world.runs.pickUp !== undefined) return await world.runs.pickUp(runId, owner, leaseMs, knownSeq);
  const acquired = await world.runs.acquire(runId, owner, leaseMs);
  if (!acquired.acquired || TERMINAL_RUN_STATUSES.has(acquired.run.status)) return acquired;
  const inboxRead = world.inbox.list(runId);
  inboxRead.catch(() => undefined); // awaited below; a failure of the log read wins
  const events = acquired.run.seq === knownSeq ? undefined : await world.events.list(runId);
  const inbox = await inboxRead;
  return events === undefined ? { ...acquired, inbox } : { ...acquired, events, inbox };
}
