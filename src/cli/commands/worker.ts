/** `stepwise worker <files…>`: a dedicated worker process for the workflows in <files>. */
import { parseArgs } from "node:util";
import { getWorld, listWorkflows, shutdown } from "../../api/index.ts";
import { ConfigError } from "../../errors/runtime.ts";
import { discoverWorkflowFiles, loadWorkflowFiles } from "../../ops/load.ts";
import { getPayloadCodec } from "../../runtime/process.ts";
import { Worker } from "../../runtime/worker.ts";
import type { World } from "../../world/types.ts";
import { note, UsageError } from "../output.ts";

export const help = `Usage: npx stepwise worker [files…] [options]

Runs a dedicated worker for the workflows defined in [files…] (default: every file under
./workflows) against the World chosen by STEPWISE_WORLD. Any number of workers can share one
World. On SIGTERM or SIGINT the worker stops taking work, finishes the steps it is running,
hands its runs back to the queue and exits; a second signal exits at once.

Options:
  --concurrency <n>   steps executing at once (default 256)
  --lease-ms <ms>     how long a run stays with this worker without a heartbeat; a dead
                      worker's runs move to a live one after at most this long (default 5000)
  --quiet             do not print a line per run
  -h, --help          show this help`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { concurrency: { type: "string" }, "lease-ms": { type: "string" }, quiet: { type: "boolean" } },
  });
  const files = positionals.length > 0 ? positionals : discoverWorkflowFiles();
  if (files.length === 0)
    throw new UsageError(
      "worker needs the workflow files to load (none given, and no ./workflows directory).",
    );
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency <= 0)) {
    throw new UsageError(`--concurrency must be a positive integer, got "${values.concurrency}".`);
  }
  const leaseMs = values["lease-ms"] === undefined ? undefined : Number(values["lease-ms"]);
  if (leaseMs !== undefined && (!Number.isInteger(leaseMs) || leaseMs < 200)) {
    throw new UsageError(
      `--lease-ms must be a whole number of milliseconds, at least 200, got "${values["lease-ms"]}".`,
    );
  }
  process.env.STEPWISE_WORKER = "0"; // this command runs its own worker, not the in-process one
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
    ...(concurrency === undefined ? {} : { maxConcurrentSteps: concurrency }),
    ...(leaseMs === undefined ? {} : { leaseMs }),
    ...(values.quiet
      ? {}
      : {
          onRun: (report) =>
            note(
              `${new Date().toISOString()} ${report.runId} ${report.outcome} (${report.workflowName.split("//").pop()}, ${report.stepsCompleted} steps)`,
            ),
        }),
  });
  note(
    `stepwise worker ${worker.owner} on the ${world.name} World, ${workflows.length} workflow(s):\n  ${workflows.join("\n  ")}`,
  );
  worker.start();
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        note(`${signal} again: exiting now.`);
        process.exit(130);
      }
      stopping = true;
      note(`${signal}: finishing the steps in flight and handing runs back…`);
      resolve();
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
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
