/**
 * `inspect streams`, as a library: a run's streams (name, chunks, closed), and the chunks of one
 * stream, decoded like every payload `inspect` shows (`<encrypted>` unless decryption is asked
 * for, which is recorded in the audit trail first and its outcome after). Following tails the
 * stream, woken by the World's notifications, until it is closed, its run ends, or the caller's
 * signal aborts (Ctrl-C); the audit outcome is recorded in every case.
 */
import { StepwiseError } from "../errors/base.ts";
import { NotFoundError } from "../errors/world.ts";
import { nextChange } from "../runtime/streams.ts";
import type { PayloadCodec } from "../serde/payload.ts";
import { places } from "../serde/places.ts";
import { type AuditEntry, type StreamInfo, TERMINAL_RUN_STATUSES, type World } from "../world/types.ts";
import { checkDecrypt } from "./inspect.ts";
import { PayloadView, type PayloadViewOptions } from "./payload-view.ts";
import { formatTable } from "./table.ts";

const READ_BATCH = 256;

/** One chunk as shown: its index, when it was written (ISO), and its decoded value. */
export interface StreamChunkRow {
  index: number;
  createdAt: string;
  value: unknown;
}

export interface ReadStreamOptions extends PayloadViewOptions {
  /** Keep reading new chunks until the stream closes or the run ends. */
  follow?: boolean;
  /** Stops following (Ctrl-C); what was read stays printed and the audit outcome is recorded. */
  signal?: AbortSignal;
  /** Called for each chunk, in order, as it is read. */
  onChunk(row: StreamChunkRow): void;
}

export interface ReadStreamResult {
  chunks: number;
  /** Why reading stopped: the end of what was written (not following), closed, run ended, aborted. */
  end: "read" | "closed" | "run-ended" | "aborted";
  audit?: AuditEntry;
  auditOutcome?: AuditEntry;
}

/** A run's streams as rows and a table. `RunNotFoundError` for an unknown run. */
export async function listStreams(
  world: World,
  runId: string,
): Promise<{ rows: StreamInfo[]; table: string }> {
  await world.runs.get(runId);
  const streams = await world.streams.list(runId);
  return {
    rows: streams,
    table:
      streams.length === 0
        ? `Run ${runId} has written no stream.`
        : formatTable(streams, [
            { header: "name", value: (s) => s.name },
            { header: "chunks", value: (s) => String(s.length) },
            { header: "closed", value: (s) => (s.closed ? "yes" : "no") },
          ]),
  };
}

/**
 * Reads the stream `name` of `runId` from its first chunk, handing each to `onChunk`.
 * `RunNotFoundError` for an unknown run; without `follow`, a `StepwiseError` naming the run's
 * streams when it has none called `name`; `PayloadDecryptionError` when a chunk cannot be
 * decrypted (recorded as a failed outcome first).
 */
export async function readStream(
  world: World,
  payloads: PayloadCodec,
  runId: string,
  name: string,
  options: ReadStreamOptions,
): Promise<ReadStreamResult> {
  if (options.decrypt) checkDecrypt(payloads, "streams", {});
  const run = await world.runs.get(runId);
  const view = new PayloadView(payloads, options);
  await view.unlock(world, "streams", [runId]);
  let result: ReadStreamResult;
  try {
    result = await tail(world, view, run, name, options);
  } catch (error) {
    await view.settle(world, error).catch(() => {});
    throw error;
  }
  await view.settle(world);
  if (view.audit !== undefined) result.audit = view.audit;
  if (view.outcome !== undefined) result.auditOutcome = view.outcome;
  return result;
}

async function tail(
  world: World,
  view: PayloadView,
  run: Awaited<ReturnType<World["runs"]["get"]>>,
  name: string,
  options: ReadStreamOptions,
): Promise<ReadStreamResult> {
  const { runId } = run;
  const place = places.streamChunk(name);
  let from = 0;
  for (;;) {
    if (options.signal?.aborted) return { chunks: from, end: "aborted" };
    // Listen before reading, so a chunk written right after the read still wakes us.
    const change = options.follow ? nextChange(world, runId, name) : undefined;
    const stop = () => change?.cancel();
    options.signal?.addEventListener("abort", stop, { once: true });
    try {
      const read = await world.streams
        .read(runId, name, { from, limit: READ_BATCH })
        .catch((error: unknown) => {
          if (NotFoundError.is(error)) return undefined;
          throw error;
        });
      if (read === undefined && !options.follow) throw await noSuchStream(world, runId, name);
      for (const chunk of read?.chunks ?? []) {
        options.onChunk({
          index: chunk.index,
          createdAt: new Date(chunk.createdAt).toISOString(),
          value: view.show(run, place, chunk.data),
        });
      }
      from += read?.chunks.length ?? 0;
      if (read !== undefined && read.chunks.length === READ_BATCH) continue;
      if (read?.info.closed) return { chunks: from, end: "closed" };
      if (!options.follow) return { chunks: from, end: "read" };
      if (TERMINAL_RUN_STATUSES.has((await world.runs.get(runId)).status)) {
        // The run has ended: nothing more will be written. One more read closes the gap.
        const last = await world.streams.read(runId, name, { from, limit: 1 }).catch(() => undefined);
        if (last !== undefined && last.chunks.length > 0) continue;
        return { chunks: from, end: "run-ended" };
      }
      await change?.promise;
    } finally {
      options.signal?.removeEventListener("abort", stop);
      change?.cancel();
    }
  }
}

async function noSuchStream(world: World, runId: string, name: string): Promise<StepwiseError> {
  const names = (await world.streams.list(runId)).map((stream) => stream.name);
  return new StepwiseError(
    names.length === 0
      ? `Run ${runId} has written no stream yet. To wait for "${name}", add --follow.`
      : `Run ${runId} has no stream named "${name}". Its streams: ${names.join(", ")}.`,
  );
}
