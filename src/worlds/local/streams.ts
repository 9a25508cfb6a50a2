/**
 * The local World's durable streams: a `streams` row per (run, name) holding its length and
 * closed flag, and one `stream_chunks` row per chunk, numbered from 0.
 */
import { ConflictError, NotFoundError, RunNotFoundError } from "../../errors/world.ts";
import type { StreamInfo, World } from "../../world/types.ts";
import { checkRunBudget } from "../shared.ts";
import { bool, bytesOf, num, streamFromRow } from "../sql/rows.ts";
import type { LocalContext } from "./context.ts";

export function createStreams(ctx: LocalContext): World["streams"] {
  const { sql } = ctx;

  const infoOf = (runId: string, name: string): StreamInfo => {
    const row = sql.stream.get(runId, name);
    if (row) return streamFromRow(row);
    if (sql.runExists.get(runId) === undefined) throw new RunNotFoundError(runId);
    throw new NotFoundError(`Run ${runId} has no stream named "${name}".`);
  };

  return {
    async write(runId, name, chunks, options = {}) {
      ctx.enter();
      const info = ctx.write(() => {
        const head = sql.runHead.get(runId);
        if (head === undefined) throw new RunNotFoundError(runId);
        const at = ctx.now();
        let row = sql.stream.get(runId, name);
        if (!row) {
          sql.insertStream.run(runId, name, at);
          row = { run_id: runId, name, length: 0, closed: 0 };
        } else if (bool(row.closed)) {
          throw new ConflictError(
            `Stream "${name}" of run ${runId} is closed; nothing more can be written to it.`,
          );
        }
        const size = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
        checkRunBudget(
          { runId, payloadBytes: num(head.payload_bytes) },
          size,
          options,
          `A write to stream "${name}"`,
        );
        if (size > 0) sql.addPayloadBytes.run(size, runId);
        let length = num(row.length);
        for (const data of chunks) sql.insertChunk.run(runId, name, length++, data, at);
        const closed = options.close ? 1 : 0;
        sql.updateStream.run(length, closed, runId, name);
        return streamFromRow({ ...row, length, closed });
      });
      ctx.notifier.emit({ type: "stream", runId, name });
      return info;
    },

    async read(runId, name, options = {}) {
      ctx.enter();
      return ctx.read(() => {
        const info = infoOf(runId, name);
        const from = Math.max(0, Math.floor(options.from ?? 0));
        const limit = Math.max(0, Math.floor(options.limit ?? 1000));
        const chunks = sql.chunks
          .all(runId, name, from, limit)
          .map((row) => ({ index: row.idx, data: bytesOf(row.data), createdAt: row.created_at }));
        return { chunks, info };
      });
    },

    async info(runId, name) {
      ctx.enter();
      return infoOf(runId, name);
    },

    async list(runId) {
      ctx.enter();
      return ctx.read(() => {
        const rows = sql.streams.all(runId);
        if (rows.length === 0 && sql.runExists.get(runId) === undefined) throw new RunNotFoundError(runId);
        return rows.map(streamFromRow);
      });
    },
  };
}
