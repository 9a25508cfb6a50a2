/** `stepwise hooks resume <token> [json-payload]` (also `stepwise resume`): sends a payload to a waiting hook. */
import { configure, resumeHook, shutdown } from "../../api/index.ts";
import { print } from "../output.ts";

/** Sends `payload` (null when omitted) to the hook on `token`; returns the exit code. */
export async function run(token: string, payload: unknown): Promise<number> {
  configure({ inProcessWorker: false });
  try {
    const hook = await resumeHook(token, payload === undefined ? null : payload);
    print(`resumed hook ${hook.token} of run ${hook.runId}`);
    return 0;
  } finally {
    await shutdown();
  }
}
