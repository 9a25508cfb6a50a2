/** `stepwise cancel <runId>`: cancels a run. */
import { getRun, shutdown } from "../../api/index.ts";
import { print } from "../output.ts";

/** Cancels the run unless it has already ended; returns the exit code. */
export async function run(runId: string): Promise<number> {
  process.env.STEPWISE_WORKER = "0";
  try {
    const handle = getRun(runId);
    const before = await handle.status;
    if (before !== "pending" && before !== "running") {
      print(`${runId} has already ended (${before}); nothing to cancel.`);
      return 0;
    }
    await handle.cancel();
    print(`${runId} ${await handle.status}`);
    return 0;
  } finally {
    await shutdown();
  }
}
