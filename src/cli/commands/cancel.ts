/** `stepwise cancel <runId>`: cancels a run. */
import { parseArgs } from "node:util";
import { getRun, shutdown } from "../../api/index.ts";
import { print, UsageError } from "../output.ts";

export const help = `Usage: npx stepwise cancel <runId>

Cancels the run: it ends at once with status "cancelled" (a step already running finishes,
and its result is discarded).
Cancelling a run that has already ended changes nothing.

Options:
  -h, --help   show this help`;

export async function run(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
  const [runId] = positionals;
  if (runId === undefined) throw new UsageError("cancel needs a run id.");
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
