/** `stepwise resume <token> [json-payload]`: sends a payload to a waiting hook. */
import { parseArgs } from "node:util";
import { resumeHook, shutdown } from "../../api/index.ts";
import { print, UsageError } from "../output.ts";

export const help = `Usage: npx stepwise resume <token> [json-payload]

Sends [json-payload] (any JSON value; null when omitted) to the hook listening on <token>.
The run waiting on it continues in whichever worker drives it.

Options:
  -h, --help   show this help`;

export async function run(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
  const [token, json] = positionals;
  if (token === undefined) throw new UsageError("resume needs the hook's token.");
  let payload: unknown = null;
  if (json !== undefined) {
    try {
      payload = JSON.parse(json);
    } catch (error) {
      throw new UsageError(`[json-payload] is not valid JSON (${(error as Error).message}): ${json}`);
    }
  }
  process.env.STEPWISE_WORKER = "0";
  try {
    const hook = await resumeHook(token, payload);
    print(`resumed hook ${hook.token} of run ${hook.runId}`);
    return 0;
  } finally {
    await shutdown();
  }
}
