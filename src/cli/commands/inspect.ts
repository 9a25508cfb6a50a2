/**
 * `stepwise inspect runs|steps|events|hooks|sleeps|audit [id]`: reads runs, their history and the
 * audit trail. `--decrypt` shows encrypted payloads after the library has written an audit record.
 */
import { parseArgs } from "node:util";
import { getWorld, shutdown } from "../../api/index.ts";
import { INSPECT_RESOURCES, type InspectOptions, type InspectResource, inspect } from "../../ops/inspect.ts";
import { getPayloadCodec } from "../../runtime/process.ts";
import { note, print, UsageError } from "../output.ts";

export const help = `Usage: npx stepwise inspect <runs|steps|events|hooks|sleeps|audit> [id] [options]

  inspect runs                 the most recent runs (newest first)
  inspect runs <runId>         one run in detail, with its input and result
  inspect steps <runId>        a run's steps, with attempts and results
  inspect events <runId>       a run's event log
  inspect hooks [runId]        hooks (all, or one run's)
  inspect sleeps [runId]       durable sleeps (all, or one run's)
  inspect audit [runId]        who decrypted payloads (all, or one run's), newest first

Encrypted payloads (STEPWISE_ENCRYPTION_KEY) show as <encrypted>. To read them:
  inspect runs|steps|events <runId> --decrypt [--reason "..."]
needs the key in the environment and first writes an audit record: your OS user, host, pid,
the run, the time and the reason; a second record says whether decrypting succeeded or failed,
and why. See docs/security.md.

Options:
  --status <s>       filter by status (runs: pending,running,completed,failed,cancelled;
                     hooks: active|disposed; sleeps: waiting|completed)
  --workflow <name>  runs of one workflow (full id, or the function name)
  --run <runId>      same as giving the run id as [id]
  --limit <n>        at most n rows (default 50; events: 100)
  --cursor <c>       the next page, as printed after a full page
  --decrypt          show encrypted payloads (recorded in the audit trail first)
  --reason <text>    why you decrypt, stored in the audit record
  --json             machine-readable output
  -h, --help         show this help`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      status: { type: "string" },
      workflow: { type: "string" },
      run: { type: "string" },
      limit: { type: "string" },
      cursor: { type: "string" },
      decrypt: { type: "boolean" },
      reason: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const [resource, id] = positionals;
  if (resource === undefined || !INSPECT_RESOURCES.includes(resource as InspectResource)) {
    throw new UsageError(
      `inspect needs one of: ${INSPECT_RESOURCES.join(", ")}${resource === undefined ? "" : ` (got "${resource}")`}.`,
    );
  }
  const options: InspectOptions = {};
  if (id !== undefined) options.id = id;
  if (values.run !== undefined) options.runId = values.run;
  if (values.status !== undefined) options.status = values.status;
  if (values.workflow !== undefined) options.workflow = values.workflow;
  if (values.cursor !== undefined) options.cursor = values.cursor;
  if (values.reason !== undefined && !values.decrypt)
    throw new UsageError("--reason goes with --decrypt: it is stored in the audit record of a decryption.");
  if (values.decrypt) options.decrypt = true;
  if (values.reason !== undefined) options.reason = values.reason;
  if (values.limit !== undefined) {
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit <= 0)
      throw new UsageError(`--limit must be a positive integer, got "${values.limit}".`);
    options.limit = limit;
  }
  process.env.STEPWISE_WORKER = "0";
  try {
    const world = await getWorld();
    const result = await inspect(world, getPayloadCodec(), resource as InspectResource, options);
    if (result.audit !== undefined) {
      const { auditId, actor } = result.audit;
      const outcome =
        result.auditOutcome === undefined ? "" : `; how it ended, as ${result.auditOutcome.auditId}`;
      note(
        `Decrypting: recorded in the audit trail as ${auditId} (${actor.user}@${actor.host}, pid ${actor.pid})${outcome}.`,
      );
    }
    if (values.json) {
      print(
        JSON.stringify(
          result.nextCursor === undefined
            ? { items: result.rows }
            : { items: result.rows, nextCursor: result.nextCursor },
          jsonReplacer,
          2,
        ),
      );
    } else {
      print(result.table);
      if (result.nextCursor !== undefined)
        print(`\nMore: npx stepwise inspect ${resource}${id ? ` ${id}` : ""} --cursor ${result.nextCursor}`);
    }
    return 0;
  } finally {
    await shutdown();
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}
