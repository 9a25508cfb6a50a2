/**
 * Waiting for a run to end, for at most a bounded time, and no longer than the client stays
 * connected. Unlike `Run.returnValue` (which waits as long as it takes and keeps the process
 * alive meanwhile), a long-poll must give up: this listens to the World's change notifications
 * for the run (plus a slow safety check for missed cross-process hints) and always unsubscribes.
 */
import { getWorld } from "../api/index.ts";
import { type RunRecord, TERMINAL_RUN_STATUSES } from "../world/types.ts";

/** A safety net for notifications missed across processes. */
const CHECK_EVERY_MS = 1_000;

/**
 * The run once it has ended, or as it is when `timeoutMs` passes or `signal` aborts, whichever
 * comes first. `RunNotFoundError` for an unknown run.
 */
export async function waitForRunEnd(
  runId: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<RunRecord> {
  const world = await getWorld();
  const first = await world.runs.get(runId);
  if (TERMINAL_RUN_STATUSES.has(first.status) || timeoutMs <= 0 || signal?.aborted) return first;
  return new Promise<RunRecord>((resolve, reject) => {
    let latest = first;
    let settled = false;
    let reading = false;
    let again = false;
    let unsubscribe: (() => void) | undefined;
    const finish = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      unsubscribe?.();
      clearTimeout(deadline);
      clearInterval(poll);
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) resolve(latest);
      else reject(error);
    };
    const check = (): void => {
      if (settled) return;
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      void (async () => {
        try {
          do {
            again = false;
            latest = await world.runs.get(runId);
            if (TERMINAL_RUN_STATUSES.has(latest.status)) finish();
          } while (again && !settled);
        } catch (error) {
          finish(error);
        } finally {
          reading = false;
        }
      })();
    };
    const onAbort = (): void => finish();
    const deadline = setTimeout(() => finish(), timeoutMs);
    const poll = setInterval(check, CHECK_EVERY_MS);
    poll.unref();
    signal?.addEventListener("abort", onAbort, { once: true });
    unsubscribe = world.subscribe((hint) => {
      if (hint.type === "any" || (hint.type === "run" && hint.runId === runId)) check();
    });
    if (settled) unsubscribe();
    // The run may have ended between the first read and the subscription.
    check();
  });
}
