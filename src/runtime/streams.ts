/**
 * Durable streams on top of the World's stream storage. A writable appends each chunk (any
 * serializable value: text, objects, `Uint8Array`) as one stored payload, so it is encrypted at rest
 * like every other payload; writers are steps (or workflow code through the built-in write step), so
 * chunks are written at least once. A readable reads from any index (negative: from the tail) and
 * then tails the stream live, woken by the World's notifications, until the stream is closed or its
 * run has ended and every chunk has been read. Readers never block writers: nobody needs to read.
 */
import { StreamRangeError } from "../errors/runtime.ts";
import { NotFoundError } from "../errors/world.ts";
import { decodeValue, encodeValue } from "../serde/codec.ts";
import type { PayloadCodec, PayloadScope } from "../serde/payload.ts";
import { places } from "../serde/places.ts";
import { TERMINAL_RUN_STATUSES, type World, type WorldNotification } from "../world/types.ts";
import { checkPayload, type Limits } from "./limits.ts";

/** A reader that hears nothing re-reads after this long (a safety net for missed notifications). */
const TAIL_FALLBACK_MS = 1_000;
const READ_BATCH = 256;

export { DEFAULT_STREAM, streamName } from "../workflow/stream-name.ts";

export interface StreamTarget {
  world: World | Promise<World>;
  payloads: PayloadCodec;
  limits: Limits;
  /** The run (its id, and whether it is encrypted). */
  scope: PayloadScope;
  name: string;
  /** Told of the bytes each write stored (the run's driver counts them toward its total). */
  stored?(runId: string, bytes: number): void;
}

/**
 * Stores one chunk. `PayloadTooLargeError` over the per-payload limit, or when it would take the
 * run past its total (checked by the World as it writes); nothing is written then.
 */
export async function writeChunk(target: StreamTarget, chunk: unknown): Promise<void> {
  const { runId } = target.scope;
  const bytes = target.payloads.encode(target.scope, places.streamChunk(target.name), encodeValue(chunk));
  checkPayload(bytes.length, `A chunk of stream "${target.name}" of run ${runId}`, target.limits);
  await (await target.world).streams.write(runId, target.name, [bytes], {
    maxRunBytes: target.limits.maxRunBytes,
  });
  target.stored?.(runId, bytes.length);
}

/** Closes the stream (readers end after its last chunk). Closing twice is harmless. */
export async function closeStream(target: StreamTarget): Promise<void> {
  const world = await target.world;
  const { runId } = target.scope;
  const info = await world.streams.info(runId, target.name).catch(() => undefined);
  if (info?.closed) return;
  await world.streams.write(runId, target.name, [], { close: true });
}

/** A `WritableStream` whose chunks go durably to the run's stream. */
export function durableWritable(target: StreamTarget): WritableStream<unknown> {
  return new WritableStream<unknown>({
    write: (chunk) => writeChunk(target, chunk),
    close: () => closeStream(target),
  });
}

/**
 * Resolves at the next change hint that may concern the stream (or its run), or after the fallback
 * delay; `cancel` resolves it at once. Subscribe BEFORE reading, so a write right after the read
 * still wakes the reader.
 */
export function nextChange(
  world: World,
  runId: string,
  name: string,
): { promise: Promise<void>; cancel(): void } {
  let unsubscribe: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let resolveIt: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    resolveIt = resolve;
  });
  const done = (): void => {
    unsubscribe?.();
    if (timer) clearTimeout(timer);
    resolveIt();
  };
  unsubscribe = world.subscribe((n: WorldNotification) => {
    if (
      n.type === "any" ||
      (n.type === "stream" && n.runId === runId && n.name === name) ||
      (n.type === "run" && n.runId === runId)
    )
      done();
  });
  timer = setTimeout(done, TAIL_FALLBACK_MS);
  return { promise, cancel: done };
}

export interface ReadOptions {
  /** First chunk to read; negative counts from the end (-1: the last chunk). Default 0. */
  startIndex?: number;
}

/**
 * A `ReadableStream` of the run's stream from `startIndex`, tailing live. `StreamRangeError` (as
 * the stream's error) for a start past the end; `RunNotFoundError` for an unknown run.
 */
export function durableReadable(
  target: { world: World | Promise<World>; payloads: PayloadCodec; runId: string; name: string },
  options: ReadOptions = {},
): ReadableStream<unknown> {
  const { payloads, runId, name } = target;
  const place = places.streamChunk(name);
  let world: World;
  let scope: PayloadScope;
  let next: number | undefined;
  let waiting: { cancel(): void } | undefined;
  let cancelled = false;

  const resolveStart = async (): Promise<number> => {
    const start = options.startIndex ?? 0;
    if (!Number.isInteger(start))
      throw new StreamRangeError(`startIndex must be an integer, got ${String(start)}.`);
    const info = await world.streams.info(runId, name).catch((error: unknown) => {
      if (NotFoundError.is(error)) return undefined;
      throw error;
    });
    const length = info?.length ?? 0;
    const resolved = start < 0 ? Math.max(0, length + start) : start;
    if (resolved > length) {
      throw new StreamRangeError(
        `Stream "${name}" of run ${runId} has ${length} chunk(s); reading from index ${start} is past its end. Read from 0 to ${length} (the next chunk), or use a negative index to count from the end.`,
      );
    }
    return resolved;
  };

  return new ReadableStream<unknown>(
    {
      async start() {
        world = await target.world;
        scope = await world.runs.get(runId);
        next = await resolveStart();
      },
      async pull(controller) {
        for (;;) {
          if (cancelled) return;
          // Listen before reading, so a chunk written right after the read still wakes us.
          const change = nextChange(world, runId, name);
          waiting = change;
          try {
            const from = next ?? 0;
            const read = await world.streams
              .read(runId, name, { from, limit: READ_BATCH })
              .catch((error: unknown) => {
                if (NotFoundError.is(error)) return undefined;
                throw error;
              });
            if (read !== undefined && read.chunks.length > 0) {
              for (const chunk of read.chunks)
                controller.enqueue(decodeValue(payloads.decode(scope, place, chunk.data)));
              next = from + read.chunks.length;
              return;
            }
            if (read?.info.closed) {
              controller.close();
              return;
            }
            const run = await world.runs.get(runId);
            if (TERMINAL_RUN_STATUSES.has(run.status)) {
              // The run has ended: nothing more will be written. One last read closes the gap.
              const last = await world.streams.read(runId, name, { from, limit: 1 }).catch(() => undefined);
              if (last !== undefined && last.chunks.length > 0) continue;
              controller.close();
              return;
            }
            await change.promise;
          } finally {
            change.cancel();
            waiting = undefined;
          }
        }
      },
      cancel() {
        cancelled = true;
        waiting?.cancel();
      },
    },
    { highWaterMark: 0 },
  );
}
