/**
 * `stepwise inspect runs|steps|events|logs|hooks|sleeps|audit [id]`: reads runs, their history and the
 * audit trail through the library (`ops/inspect.ts`), and prints a table or JSON. `--decrypt`
 * shows encrypted payloads after the library has written an audit record.
 */
import { configure, getWorld, shutdown } from "../../api/index.ts";
import { type InspectOptions, type InspectResource, type InspectResult, inspect } from "../../ops/inspect.ts";
import { getPayloadCodec } from "../../process/process.ts";
import { note, print, UsageError } from "../output.ts";

/** The options commander parsed for an inspect subcommand (each takes the ones that apply). */
export interface InspectCommandOptions {
  status?: string | string[];
  workflow?: string;
  limit?: number;
  cursor?: string;
  ids?: boolean;
  decrypt?: boolean;
  reason?: string;
  json?: boolean;
  follow?: boolean;
  step?: string;
}

/** The library's options from the command line's; `--reason` needs `--decrypt`. */
export function inspectOptions(options: InspectCommandOptions): InspectOptions {
  if (options.reason !== undefined && !options.decrypt)
    throw new UsageError("--reason goes with --decrypt: it is stored in the audit record of a decryption.");
  const out: InspectOptions = {};
  if (options.status !== undefined) out.status = options.status;
  if (options.workflow !== undefined) out.workflow = options.workflow;
  if (options.limit !== undefined) out.limit = options.limit;
  if (options.cursor !== undefined) out.cursor = options.cursor;
  if (options.ids) out.ids = true;
  if (options.decrypt) out.decrypt = true;
  if (options.reason !== undefined) out.reason = options.reason;
  if (options.step !== undefined) out.step = options.step;
  return out;
}

/** Says on stderr that decrypting was recorded, and as which audit records. */
export function noteAudit(result: Pick<InspectResult, "audit" | "auditOutcome">): void {
  if (result.audit === undefined) return;
  const { auditId, actor } = result.audit;
  const outcome =
    result.auditOutcome === undefined ? "" : `; how it ended, as ${result.auditOutcome.auditId}`;
  note(
    `Decrypting: recorded in the audit trail as ${auditId} (${actor.user}@${actor.host}, pid ${actor.pid})${outcome}.`,
  );
}

/** The command that prints the next page: the same one, every filter kept, with the new cursor. */
function nextPageCommand(
  resource: string,
  id: string | undefined,
  options: InspectCommandOptions,
  cursor: string,
) {
  const parts = ["npx stepwise inspect", resource];
  if (id !== undefined) parts.push(id);
  const quote = (text: string) => (/^[\w./:@,-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`);
  if (options.status !== undefined)
    parts.push(
      "--status",
      quote(typeof options.status === "string" ? options.status : options.status.join(",")),
    );
  if (options.workflow !== undefined) parts.push("--workflow", quote(options.workflow));
  if (options.step !== undefined) parts.push("--step", quote(options.step));
  if (options.limit !== undefined) parts.push("--limit", String(options.limit));
  if (options.ids) parts.push("--ids");
  parts.push("--cursor", quote(cursor));
  return parts.join(" ");
}

/** Runs `inspect <resource> [id]`; returns the exit code. */
export async function run(
  resource: string,
  id: string | undefined,
  options: InspectCommandOptions,
): Promise<number> {
  const query = inspectOptions(options);
  if (id !== undefined) query.id = id;
  configure({ inProcessWorker: false });
  try {
    const world = await getWorld();
    const result = await inspect(world, getPayloadCodec(), resource as InspectResource, query);
    noteAudit(result);
    if (options.json) {
      const body =
        result.nextCursor === undefined
          ? { items: result.rows }
          : { items: result.rows, nextCursor: result.nextCursor };
      print(JSON.stringify(body, jsonReplacer, 2));
    } else {
      print(result.table);
      if (result.nextCursor !== undefined)
        print(`\nMore: ${nextPageCommand(resource, id, options, result.nextCursor)}`);
    }
    return 0;
  } finally {
    await shutdown();
  }
}

/** JSON for values JSON has no form for: BigInt as text, bytes as base64, errors as objects. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}
