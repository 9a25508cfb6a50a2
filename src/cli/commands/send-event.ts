/**
 * `stepwise send-event <runId> <type> [json-payload]`: sends an event to a run, where
 * `waitForEvent(type)` receives it. The workflow files are loaded first (`--load`, or every file
 * under ./workflows, as `start` does) so that the event types they define with a schema
 * (`defineEvent`) refuse a bad payload here, before anything is stored.
 */
import { configure, sendEvent, shutdown } from "../../api/index.ts";
import { discoverWorkflowFiles, loadWorkflowFiles } from "../../ops/load.ts";
import { print } from "../output.ts";

export interface SendEventCommandOptions {
  load?: string[];
  json?: boolean;
}

/** Sends the event (payload null when omitted); returns the exit code. */
export async function run(
  runId: string,
  type: string,
  payload: unknown,
  options: SendEventCommandOptions,
): Promise<number> {
  configure({ inProcessWorker: false });
  try {
    await loadWorkflowFiles(options.load ?? discoverWorkflowFiles());
    const sent = await sendEvent(runId, type, payload === undefined ? null : payload);
    print(
      options.json
        ? JSON.stringify({ ...sent, sentAt: sent.sentAt.toISOString() })
        : `sent event ${sent.type} (${sent.eventId}) to run ${sent.runId}`,
    );
    return 0;
  } finally {
    await shutdown();
  }
}
