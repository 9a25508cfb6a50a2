/**
 * `stepwise start <workflow> [json-args] [--id <id>]`: starts a run (under the given id, or an
 * existing run of the workflow with that id, said on stderr) and prints its id. With `--wait` the run is
 * driven in this process, and only it (other waiting runs are left to workers; a workflow whose
 * code is not loaded here, a Python one, is left to its worker and only waited for): what it is doing
 * shows on stderr as it goes (`cli/progress.ts`), and the result goes to stdout; a failed or
 * cancelled run exits 1.
 */
import { configure, getRun, getWorld, processClient, shutdown } from "../../api/index.ts";
import type { StartedRun } from "../../client/start.ts";
import { WorkflowRunCancelledError, WorkflowRunFailedError } from "../../errors/runtime.ts";
import { discoverWorkflowFiles, loadWorkflowFiles } from "../../ops/load.ts";
import { describeProgress } from "../../ops/run-state.ts";
import { driveOnly } from "../../process/process.ts";
import { registeredWorkflowIds } from "../../runtime/registry.ts";
import { note, print } from "../output.ts";
import { startProgress } from "../progress.ts";

export interface StartCommandOptions {
  load?: string[];
  /** The run's id (checked by the option's parser); an existing run of the workflow is reused. */
  id?: string;
  wait?: boolean;
  json?: boolean;
}

/** How often `--wait` looks at the run to update its progress line. */
const PROGRESS_MS = 250;

/** Starts the run; with `wait`, drives it here and prints its result. Returns the exit code. */
export async function run(name: string, json: unknown, options: StartCommandOptions): Promise<number> {
  const args = json === undefined ? [] : Array.isArray(json) ? json : [json];
  // Never an in-process worker that would drive other runs: --wait drives this run alone.
  configure({ inProcessWorker: false });
  try {
    await loadWorkflowFiles(options.load ?? discoverWorkflowFiles());
    const client = processClient();
    const workflowId = await client.resolveWorkflowName(name);
    const [started] = await client.startRuns(workflowId, [{ args, id: options.id }]);
    const { run: handle, created, status } = started as StartedRun;
    if (!created)
      note(
        `Run ${handle.runId} of ${workflowId} already exists (status: ${status}): nothing new was started.`,
      );
    // A workflow without code here (a Python one) is left to its worker: --wait only waits.
    if (options.wait && registeredWorkflowIds().includes(workflowId)) await driveOnly([handle.runId]);
    if (!options.wait) {
      print(options.json ? JSON.stringify({ runId: handle.runId, created }) : handle.runId);
      return 0;
    }
    return await waitFor(handle.runId, options);
  } finally {
    await shutdown();
  }
}

async function waitFor(runId: string, options: StartCommandOptions): Promise<number> {
  const world = await getWorld();
  const progress = startProgress(`${runId} started`);
  let looking = false;
  const timer = setInterval(() => {
    if (looking) return;
    looking = true;
    describeProgress(world, runId)
      .then((text) => progress.update(`${runId} ${text}`))
      .catch(() => {})
      .finally(() => {
        looking = false;
      });
  }, PROGRESS_MS);
  try {
    const result = await getRun(runId).returnValue;
    progress.stop();
    print(
      options.json
        ? JSON.stringify({ runId, status: "completed", result })
        : `completed ${runId}: ${JSON.stringify(result)}`,
    );
    return 0;
  } catch (error) {
    progress.stop();
    if (WorkflowRunFailedError.is(error) || WorkflowRunCancelledError.is(error)) {
      const failed = WorkflowRunFailedError.is(error);
      if (options.json) {
        const cause = (error as Error).cause as { name?: unknown; message?: unknown } | undefined;
        print(
          JSON.stringify(
            failed
              ? {
                  runId,
                  status: "failed",
                  error: { name: String(cause?.name ?? "Error"), message: String(cause?.message ?? cause) },
                }
              : { runId, status: "cancelled" },
          ),
        );
      }
      note(`error: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  } finally {
    clearInterval(timer);
  }
}
