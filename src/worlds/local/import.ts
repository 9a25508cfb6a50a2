/**
 * The local World's `runs.import` (see `World.runs.import`, `worlds/import-run.ts`): in one write
 * transaction, the run's row and its `run_created` as `runs.create` writes them (without the start
 * message), the rest of its log through `applyAppend` — the very code every append runs, so the
 * steps, hooks and waits are projected as they are for any run — then its inbox items, streams and
 * messages. A failure anywhere rolls all of it back.
 */
import { ConflictError } from "../../errors/world.ts";
import type { ImportedRun, ImportRunInput } from "../../world/types.ts";
import {
  checkExistingImport,
  checkImportInput,
  importCreateInput,
  importExtraBytes,
  importSegments,
} from "../import-run.ts";
import { runFromRow } from "../sql/rows.ts";
import { applyAppend } from "./append.ts";
import type { LocalContext } from "./context.ts";
import { insertMessage } from "./queue.ts";

/** Writes the run unless it is there already; call after `ctx.enter()`. */
export function importRun(ctx: LocalContext, input: ImportRunInput): ImportedRun {
  checkImportInput(input);
  const { sql } = ctx;
  const result = ctx.write((): ImportedRun => {
    const row = sql.run.get(input.runId);
    if (row !== undefined) {
      const existing = runFromRow(row);
      checkExistingImport(existing, input);
      return { run: existing, imported: false };
    }
    for (const item of input.inbox ?? []) {
      if (sql.inboxItemExists.get(item.itemId) !== undefined)
        throw new ConflictError(`An inbox item with id ${item.itemId} already exists.`);
    }
    const create = importCreateInput(input);
    const first = input.events[0];
    sql.insertRun.run(
      create.runId,
      create.workflowName,
      create.specVersion,
      create.seed,
      create.encrypted ? 1 : 0,
      create.input.length,
      create.createdAt,
      create.createdAt,
      create.bundleHash ?? null,
    );
    sql.insertEvent.run(
      create.runId,
      1,
      "run_created",
      JSON.stringify(first?.data),
      create.input,
      create.createdAt,
    );
    for (const segment of importSegments(input)) applyAppend(ctx, segment);
    for (const item of input.inbox ?? []) {
      sql.insertInbox.run(
        item.itemId,
        input.runId,
        item.kind,
        item.hookId ?? null,
        item.eventType ?? null,
        item.generation ?? null,
        item.payload ?? null,
        item.createdAt,
      );
    }
    for (const stream of input.streams ?? []) {
      sql.insertStream.run(input.runId, stream.name, stream.chunks[0]?.createdAt ?? ctx.now());
      for (const chunk of stream.chunks)
        sql.insertChunk.run(input.runId, stream.name, chunk.index, chunk.data, chunk.createdAt);
      sql.updateStream.run(stream.chunks.length, stream.closed ? 1 : 0, input.runId, stream.name);
    }
    sql.addPayloadBytes.run(importExtraBytes(input), input.runId);
    const now = ctx.now();
    for (const message of input.messages ?? []) insertMessage(ctx, { runId: input.runId, ...message }, now);
    const stored = sql.run.get(input.runId);
    if (stored === undefined)
      throw new Error(`Internal error: run ${input.runId} was imported but cannot be read.`);
    return { run: runFromRow(stored), imported: true };
  });
  if (result.imported) {
    if ((input.messages?.length ?? 0) > 0) ctx.notifier.emit({ type: "queue" });
    ctx.notifier.emit({ type: "run", runId: input.runId, status: result.run.status });
  }
  return result;
}
