/** `stepwise start <workflow> [json-args]`: starts a run and prints its id. */
import { parseArgs } from "node:util";
import { getRun, shutdown, start } from "../../api/index.ts";
import { discoverWorkflowFiles, loadWorkflowFiles } from "../../ops/load.ts";
import { findWorkflowId } from "../../ops/resolve-workflow.ts";
import { driveOnly } from "../../runtime/process.ts";
import { workflowReference } from "../../runtime/registry.ts";
import { print, UsageError } from "../output.ts";

export const help = `Usage: npx stepwise start <workflow> [json-args] [options]

Starts a run of <workflow> and prints its run id. <workflow> is the function name ("order"),
<file>//<name>, or the full id (workflow//workflows/order.ts//order). [json-args] is a JSON
array of arguments (a single JSON value is taken as the only argument).

Without --wait the run is only recorded: a worker (npx stepwise worker) or the next process
with an in-process worker executes it.

Options:
  --load <file>   a workflow file to load (repeatable; default: every file under ./workflows)
  --wait          run the workflow in this process and print its result (this run only:
                  other runs waiting are left to workers; Ctrl-C lets its running step
                  finish and hands the run back)
  --json          print {"runId": ...} (and the result with --wait) as JSON
  -h, --help      show this help`;

function parseJsonArgs(text: string | undefined): unknown[] {
  if (text === undefined) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`[json-args] is not valid JSON (${(error as Error).message}): ${text}`);
  }
  return Array.isArray(value) ? value : [value];
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      load: { type: "string", multiple: true },
      wait: { type: "boolean" },
      json: { type: "boolean" },
    },
  });
  const [name, json] = positionals;
  if (name === undefined) throw new UsageError("start needs the workflow to start.");
  if (positionals.length > 2) throw new UsageError(`unexpected arguments: ${positionals.slice(2).join(" ")}`);
  const args = parseJsonArgs(json);
  // Never an in-process worker that would drive other runs: --wait drives this run alone.
  process.env.STEPWISE_WORKER = "0";
  await loadWorkflowFiles(values.load ?? discoverWorkflowFiles());
  const workflowId = findWorkflowId(name);
  const handle = await start(workflowReference(workflowId), args);
  if (values.wait) await driveOnly([handle.runId]);
  if (!values.wait) {
    print(values.json ? JSON.stringify({ runId: handle.runId }) : handle.runId);
    await shutdown();
    return 0;
  }
  print(values.json ? "" : `started ${handle.runId}`);
  try {
    const result = await getRun(handle.runId).returnValue;
    print(
      values.json
        ? JSON.stringify({ runId: handle.runId, result })
        : `completed ${handle.runId}: ${JSON.stringify(result)}`,
    );
    return 0;
  } finally {
    await shutdown();
  }
}
