/** `stepwise restart <runId> [--from-step name] [--occurrence n]`: restarts a run (thin over `run.restart()`). */
import { configure, getRun, shutdown } from "../../api/index.ts";
import { print, UsageError } from "../output.ts";

export interface RestartCommandOptions {
  fromStep?: string;
  occurrence?: number;
  json?: boolean;
}

/** Restarts the run and prints what the restart did; returns the exit code. */
export async function run(runId: string, options: RestartCommandOptions): Promise<number> {
  if (options.occurrence !== undefined && options.fromStep === undefined)
    throw new UsageError(
      "--occurrence says which call of --from-step to restart from: give --from-step too.",
    );
  // A client: the run is executed by the workers, not by this process.
  configure({ inProcessWorker: false });
  try {
    const from =
      options.fromStep === undefined
        ? undefined
        : options.occurrence === undefined
          ? { step: options.fromStep }
          : { step: options.fromStep, occurrence: options.occurrence };
    const restarted = await getRun(runId).restart(from === undefined ? {} : { from });
    if (options.json) print(JSON.stringify(restarted));
    else {
      const where =
        restarted.step === undefined
          ? "from the beginning"
          : `from call ${restarted.occurrence ?? 1} of step ${options.fromStep} (${restarted.keptCalls} earlier call${restarted.keptCalls === 1 ? "" : "s"} kept)`;
      print(`${runId} restarted ${where}: generation ${restarted.generation}, ${await getRun(runId).status}`);
    }
    return 0;
  } finally {
    await shutdown();
  }
}
