/**
 * The postgres World's durable streams: a `streams` row per (run, name) with its length and closed
 * flag, one `stream_chunks` row per chunk numbered from 0. A write is one call of the
 * `stream_write` function (migration 002), with all chunks in one `bytea`; a read is one statement
 * that returns the stream's info and its chunks from the same snapshot.
 */
import { ConflictError, NotFoundError, RunNotFoundError } from "../../errors/world.ts";
import { runTooLarge } from "../../util/bytes.ts";
import type { StreamChunk, StreamInfo, World } from "../../world/types.ts";
import { bytesOf, num, type StreamRow, streamFromRow } from "../sql/rows.ts";
import type { PgContext } from "./context.ts";

interface ReadRow {
  length: number | string;
  closed: boolean;
  idx: number | null;
  data: Uint8Array | null;
  created_at: number | string | null;
}

export function createStreams(ctx: PgContext): World["streams"] {
  const { q } = ctx;

  const read = async (runId: string, name: string, from: number, limit: number) => {
    const rows = await ctx.query<ReadRow>(q.readStream, [runId, name, from, limit]);
    const [first] = rows;
    if (!first) {
      if ((await ctx.query(q.runExists, [runId])).length === 0) throw new RunNotFoundError(runId);
      throw new NotFoundError(`Run ${runId} has no stream named "${name}".`);
    }
    const info: StreamInfo = { runId, name, length: num(first.length), closed: first.closed };
    const chunks: StreamChunk[] = [];
    for (const row of rows) {
      if (row.idx === null || row.data === null || row.created_at === null) continue;
      chunks.push({ index: row.idx, data: bytesOf(row.data), createdAt: num(row.created_at) });
    }
    return { chunks, info };
  };

  return {
    async write(runId, name, chunks, options = {}) {
      ctx.enter();
      const blob = Buffer.concat(
        chunks.map((chunk) => Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
      );
      const [row] = await ctx.query<{
        o_found: boolean;
        o_length: number;
        o_closed: boolean;
        o_refused: boolean;
        o_bytes: string | number | null;
      }>(q.streamWrite, [
        runId,
        name,
        blob,
        chunks.map((chunk) => chunk.byteLength),
        options.close === true,
        ctx.now(),
        ctx.channel,
        ctx.notes([["s", runId, name]]),
        options.maxRunBytes ?? null,
      ]);
      if (!row?.o_found) throw new RunNotFoundError(runId);
      if (row.o_refused) {
        throw new ConflictError(
          `Stream "${name}" of run ${runId} is closed; nothing more can be written to it.`,
        );
      }
      if (row.o_bytes !== null) {
        // Refused for the budget: nothing was written.
        const max = options.maxRunBytes ?? 0;
        throw runTooLarge(`A write to stream "${name}"`, runId, num(row.o_bytes), blob.length, max);
      }
      ctx.notifier.emit({ type: "stream", runId, name });
      return { runId, name, length: row.o_length, closed: row.o_closed };
    },

    async read(runId, name, options = {}) {
      ctx.enter();
      const from = Math.max(0, Math.floor(options.from ?? 0));
      const limit = Math.max(0, Math.floor(options.limit ?? 1000));
      return read(runId, name, from, limit);
    },

    async info(runId, name) {
      ctx.enter();
      return (await read(runId, name, 0, 0)).info;
    },

    async list(runId) {
      ctx.enter();
      const rows = await ctx.query<StreamRow>(q.streams, [runId]);
      if (rows.length === 0 && (await ctx.query(q.runExists, [runId])).length === 0) {
        throw new RunNotFoundError(runId);
      }
      return rows.map(streamFromRow);
    },
  };
}
