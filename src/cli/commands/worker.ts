/**
 * `stepwise worker [files…]`: a dedicated worker process for the workflows in <files>. It logs a
 * line on stderr each time it stops driving a run, saying what is true of it (`ops/worker-log.ts`).
 */
import { configure, getWorld, listWorkflows, shutdown } from "../../api/index.ts";
import { ConfigError } from "../../errors/runtime.ts";
import { discoverWorkflowFiles, loadWorkflowFiles } from "../../ops/load.ts";
import { workerLogLine } from "../../ops/worker-log.ts";
import { getPayloadCodec } from "../../process/process.ts";
import { Worker } from "../../runtime/worker.ts";
import type { World } from "../../world/types.ts";
import { note, UsageError } from "../output.ts";
import { untilStopSignal } from "../stop-signal.ts";

export interface WorkerCommandOptions {
  concurrency?: number;
  leaseMs?: number;
  stopGraceMs?: number;
  quiet?: boolean;
}

/** Runs the worker until SIGTERM or SIGINT; returns the exit code. */
export async function run(given: string[], options: WorkerCommandOptions): Promise<number> {
  const files = given.length > 0 ? given : discoverWorkflowFiles();
  if (files.length === 0)
    throw new UsageError(
      "worker needs the workflow files to load (none given, and no ./workflows directory).",
    );
  configure({ inProcessWorker: false }); // this command runs its own worker, not the in-process one
  // The runtime's timers never keep a process alive; a worker process stays up until it is told to
  // stop, including while it waits for an unreachable World.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await loadWorkflowFiles(files);
  const workflows = listWorkflows();
  if (workflows.length === 0)
    throw new UsageError(`no workflows found in ${files.join(", ")} (mark them with "use workflow").`);
  const world = await openWorldWithRetry();
  const worker = new Worker({
    world,
    payloads: getPayloadCodec(),
    ...(options.concurrency === undefined ? {} : { maxConcurrentSteps: options.concurrency }),
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(options.stopGraceMs === undefined ? {} : { stopGraceMs: options.stopGraceMs }),
    ...(options.quiet ? {} : { onRun: (report) => note(workerLogLine(report)) }),
  });
  note(
    `stepwise worker ${worker.owner} on the ${world.name} World, ${workflows.length} workflow(s):\n  ${workflows.join("\n  ")}`,
  );
  worker.start();
  await untilStopSignal("finishing the steps in flight and handing runs back");
  await worker.stop();
  clearInterval(keepAlive);
  await shutdown();
  note("stopped.");
  return 0;
}

/** Opens the World, retrying with backoff (up to 30 s between tries) while it is unreachable. */
async function openWorldWithRetry(): Promise<World> {
  for (let attempt = 1; ; attempt++) {
    try {
      const world = await getWorld();
      await world.runs.list({ limit: 1 });
      return world;
    } catch (error) {
      if (ConfigError.is(error)) throw error; // wrong configuration: retrying cannot help
      const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt - 1, 6));
      note(
        `cannot open the World (${(error as Error).message}); retrying in ${Math.round(delay / 100) / 10} s.`,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
