/**
 * The postgres World's `payloads.rewrite`: one transaction of compare-and-swap UPDATEs on the
 * tables that hold payload bytes (events, inbox, stream_chunks; hooks and the hook_created event
 * for a webhook's static response, base64 in their metadata; an event's console output, base64 in
 * its metadata); steps and the run's input and
 * output are read joined with the log, so they follow. It takes no lock on the run row, so it never
 * waits for (nor holds up) an append: `append_one` only inserts events and deletes inbox items, and
 * a rewrite of an item deleted meanwhile matches no row and is skipped. Under MVCC a reader sees
 * each row before or after the commit, never a mix within a row.
 */
import { RunNotFoundError } from "../../errors/world.ts";
import type { PayloadRewrite, World } from "../../world/types.ts";
import { checkPayloadRewrites } from "../shared.ts";
import type { PgContext } from "./context.ts";

const buffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export function createPayloads(ctx: PgContext): World["payloads"] {
  const { q } = ctx;
  const apply = async (
    query: PgContext["query"],
    runId: string,
    rewrite: PayloadRewrite,
  ): Promise<boolean> => {
    const { slot } = rewrite;
    const expected = buffer(rewrite.expected);
    const bytes = buffer(rewrite.bytes);
    const rows =
      slot.kind === "event"
        ? await query(q.rewriteEventPayload, [runId, slot.seq, expected, bytes])
        : slot.kind === "inbox"
          ? await query(q.rewriteInboxPayload, [runId, slot.itemId, expected, bytes])
          : slot.kind === "eventLogs"
            ? await query(q.rewriteEventLogs, [
                runId,
                slot.seq,
                slot.field,
                expected.toString("base64"),
                bytes.toString("base64"),
              ])
            : slot.kind === "hookResponse"
              ? await query(q.rewriteHookResponse, [
                  runId,
                  slot.hookId,
                  expected.toString("base64"),
                  bytes.toString("base64"),
                ])
              : await query(q.rewriteChunk, [runId, slot.name, slot.index, expected, bytes]);
    return rows.length > 0;
  };
  return {
    async rewrite(runId, rewrites) {
      ctx.enter();
      checkPayloadRewrites(runId, rewrites);
      const rewritten = await ctx.transaction(async (query) => {
        if ((await query(q.runExists, [runId])).length === 0) throw new RunNotFoundError(runId);
        let count = 0;
        for (const rewrite of rewrites) {
          if (await apply(query, runId, rewrite)) count++;
        }
        return count;
      });
      return { rewritten, skipped: rewrites.length - rewritten };
    },
  };
}
