/**
 * Waiting for runs to change, for any number of waiters, with one World subscription. A waiter for
 * run R is woken by R's change notifications (skipped when the notification's status hint shows the
 * awaited condition cannot hold yet), by `any` hints from other processes, and by a slow safety
 * check in case a cross-process hint was missed.
 */

import type { RunRecord, RunStatus, World } from "../world/types.ts";
import { keepAlive } from "./keep-alive.ts";

/** Safety net for Worlds whose cross-process notifications can be missed. */
const FALLBACK_CHECK_MS = 1_000;

interface Waiter {
  runId: string;
  /** Whether a status hint could satisfy the waiter (undefined: always re-read). */
  hint: ((status: RunStatus) => boolean) | undefined;
  check(): void;
}

interface Watch {
  waiters: Map<string, Set<Waiter>>;
  unsubscribe: () => void;
  fallback: NodeJS.Timeout;
}

const watches = new WeakMap<World, Watch>();

function watchOf(world: World): Watch {
  let watch = watches.get(world);
  if (watch !== undefined) return watch;
  const waiters = new Map<string, Set<Waiter>>();
  const all = () => {
    for (const set of waiters.values()) for (const waiter of set) waiter.check();
  };
  const unsubscribe = world.subscribe((notification) => {
    if (notification.type === "any") all();
    else if (notification.type === "run") {
      const set = waiters.get(notification.runId);
      if (set === undefined) return;
      for (const waiter of set) {
        if (
          notification.status === undefined ||
          waiter.hint === undefined ||
          waiter.hint(notification.status)
        )
          waiter.check();
      }
    }
  });
  const fallback = setInterval(all, FALLBACK_CHECK_MS);
  fallback.unref();
  watch = { waiters, unsubscribe, fallback };
  watches.set(world, watch);
  return watch;
}

function forget(world: World, watch: Watch, waiter: Waiter): void {
  const set = watch.waiters.get(waiter.runId);
  set?.delete(waiter);
  if (set?.size === 0) watch.waiters.delete(waiter.runId);
  if (watch.waiters.size === 0) {
    watch.unsubscribe();
    clearInterval(watch.fallback);
    watches.delete(world);
  }
}

export interface WaitOptions {
  /** Which statuses could satisfy the wait, so notifications about other changes cost no read. */
  hint?: (status: RunStatus) => boolean;
  /** Give up after this long and resolve with the run as it is then. */
  timeoutMs?: number;
  /** Give up when this aborts (a client left) and resolve with the run as it is then. */
  signal?: AbortSignal;
  /** Keep the process alive while waiting (default true; a server's long-poll says false). */
  keepAlive?: boolean;
}

/**
 * Resolves with the run once `done(run)` holds — or, when `timeoutMs` passes or `signal` aborts
 * first, with the run as it is then. `RunNotFoundError` for an unknown run.
 */
export async function waitForRun(
  world: World,
  runId: string,
  done: (run: RunRecord) => boolean,
  options: WaitOptions = {},
): Promise<RunRecord> {
  const release = options.keepAlive === false ? () => {} : keepAlive();
  const watch = watchOf(world);
  let waiter: Waiter | undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<RunRecord>((resolve, reject) => {
      let checking = false;
      let again = false;
      let settled = false;
      const giveUp = (): void => {
        if (settled) return;
        settled = true;
        world.runs.get(runId).then(resolve, reject);
      };
      const check = (): void => {
        if (settled) return;
        if (checking) {
          again = true;
          return;
        }
        checking = true;
        void (async () => {
          try {
            do {
              again = false;
              const run = await world.runs.get(runId);
              if (settled) return;
              if (done(run)) {
                settled = true;
                resolve(run);
                return;
              }
            } while (again);
          } catch (error) {
            if (!settled) {
              settled = true;
              reject(error);
            }
          } finally {
            checking = false;
          }
        })();
      };
      waiter = { runId, hint: options.hint, check };
      let set = watch.waiters.get(runId);
      if (set === undefined) {
        set = new Set();
        watch.waiters.set(runId, set);
      }
      set.add(waiter);
      if (options.timeoutMs !== undefined) timer = setTimeout(giveUp, Math.max(0, options.timeoutMs));
      if (options.signal !== undefined) {
        if (options.signal.aborted) giveUp();
        onAbort = giveUp;
        options.signal.addEventListener("abort", onAbort, { once: true });
      }
      check();
    });
  } finally {
    if (waiter !== undefined) forget(world, watch, waiter);
    if (timer !== undefined) clearTimeout(timer);
    if (onAbort !== undefined) options.signal?.removeEventListener("abort", onAbort);
    release();
  }
}
