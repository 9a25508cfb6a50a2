/**
 * `stepwise inspect streams <runId> [name]`: a run's streams, or one stream's chunks, through the
 * library (`ops/inspect-streams.ts`). `--follow` tails until the stream closes or the run ends;
 * Ctrl-C (SIGINT, or SIGTERM) stops it cleanly: the audit outcome of a decryption is still
 * recorded, and the exit code is 0.
 */
import { configure, getWorld, shutdown } from "../../api/index.ts";
import { describeValue } from "../../ops/inspect.ts";
import { listStreams, readStream } from "../../ops/inspect-streams.ts";
import { getPayloadCodec } from "../../process/process.ts";
import { note, print } from "../output.ts";
import { type InspectCommandOptions, inspectOptions, jsonReplacer, noteAudit } from "./inspect.ts";

/** Lists the run's streams, or prints the chunks of `name`; returns the exit code. */
export async function run(
  runId: string,
  name: string | undefined,
  options: InspectCommandOptions,
): Promise<number> {
  const query = inspectOptions(options);
  configure({ inProcessWorker: false });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const world = await getWorld();
    if (name === undefined) {
      if (options.decrypt || options.follow)
        note("(--decrypt and --follow apply to one stream: name it, e.g. inspect streams <runId> default)");
      const result = await listStreams(world, runId);
      print(options.json ? JSON.stringify({ items: result.rows }, null, 2) : result.table);
      return 0;
    }
    // Without --follow, chunks are printed once reading has ended, so that decrypted ones show only
    // after the outcome of the decryption is on record; following prints them as they come.
    const held: string[] = [];
    const result = await readStream(world, getPayloadCodec(), runId, name, {
      ...query,
      ...(options.follow ? { follow: true } : {}),
      signal: stop.signal,
      onChunk: (chunk) => {
        const line = options.json
          ? JSON.stringify(chunk, jsonReplacer)
          : `${String(chunk.index).padStart(4)}  ${chunk.createdAt}  ${describeValue(chunk.value)}`;
        if (options.follow) print(line);
        else held.push(line);
      },
    });
    noteAudit(result);
    for (const line of held) print(line);
    const any = result.chunks > 0;
    if (!options.json) {
      if (!any && result.end !== "aborted") note(`Stream "${name}" of run ${runId} has no chunks yet.`);
      if (result.end === "closed") note(`(stream "${name}" is closed)`);
      if (result.end === "run-ended") note(`(run ${runId} has ended)`);
    }
    return 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await shutdown();
  }
}
