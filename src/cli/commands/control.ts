/**
 * `stepwise pause <runId>`, `stepwise resume <runId>` and `stepwise cancel <runId>`: run control
 * from the command line, as clients (`STEPWISE_WORKER=0`: they record the request, a worker carries
 * it out). Each prints the run's status once the request is recorded.
 */
import { configure, getHookByToken, getRun, shutdown } from "../../api/index.ts";
import { NotFoundError, RunNotFoundError } from "../../errors/world.ts";
import { TERMINAL_RUN_STATUSES } from "../../world/types.ts";
import { print, UsageError } from "../output.ts";

async function client<T>(work: () => Promise<T>): Promise<T> {
  configure({ inProcessWorker: false });
  try {
    return await work();
  } finally {
    await shutdown();
  }
}

/** Cancels the run unless it has already ended; returns the exit code. */
export function cancel(runId: string): Promise<number> {
  return client(async () => {
    const handle = getRun(runId);
    const before = await handle.status;
    if (TERMINAL_RUN_STATUSES.has(before)) {
      print(`${runId} has already ended (${before}); nothing to cancel.`);
      return 0;
    }
    await handle.cancel();
    print(`${runId} ${await handle.status}`);
    return 0;
  });
}

/** Pauses the run (with `abortSteps`, aborting its steps in flight); returns the exit code. */
export function pause(runId: string, options: { abortSteps?: boolean }): Promise<number> {
  return client(async () => {
    const handle = getRun(runId);
    await handle.pause(options.abortSteps ? { abortSteps: true } : {});
    const status = await handle.status;
    print(
      status === "pausing"
        ? `${runId} pausing (waiting for the steps it is running to end; then paused)`
        : `${runId} ${status}`,
    );
    return 0;
  });
}

/**
 * Resumes a paused run; returns the exit code. `extra` is a second argument, which only the old
 * spelling of hook resumes (`stepwise resume <token> <payload>`) had: it says where that went.
 */
export async function resume(runId: string, extra: string | undefined): Promise<number> {
  if (extra !== undefined) {
    throw new UsageError(
      `stepwise resume takes a run id and resumes a paused run. To send a payload to a hook, use: npx stepwise hooks resume ${runId} ${extra}`,
    );
  }
  return client(async () => {
    const handle = getRun(runId);
    try {
      await handle.resume();
    } catch (error) {
      if (RunNotFoundError.is(error) && (await isHookToken(runId))) {
        throw new UsageError(
          `"${runId}" is a hook's token, not a run id: hook resumes moved to npx stepwise hooks resume ${runId} [json-payload]. stepwise resume <runId> resumes a paused run.`,
        );
      }
      throw error;
    }
    print(`${runId} ${await handle.status}`);
    return 0;
  });
}

async function isHookToken(token: string): Promise<boolean> {
  try {
    await getHookByToken(token);
    return true;
  } catch (error) {
    if (NotFoundError.is(error)) return false;
    throw error;
  }
}
