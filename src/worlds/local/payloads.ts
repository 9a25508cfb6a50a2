/**
 * The local World's `payloads.rewrite`: one write transaction (BEGIN IMMEDIATE, so it queues
 * behind other processes' writes like any append) of compare-and-swap UPDATEs on the tables that
 * hold payload bytes: events, inbox, stream_chunks, and hooks (a webhook's static response, base64
 * in its metadata, rewritten in its hook_created event too), and an event's console output (base64
 * in its metadata). Steps and the run's input and output are
 * read from the log, so they follow. A reader in another process sees the whole batch or none of
 * it (WAL snapshots).
 */
import { RunNotFoundError } from "../../errors/world.ts";
import type { PayloadRewrite, PayloadRewriteResult, World } from "../../world/types.ts";
import { checkPayloadRewrites } from "../shared.ts";
import type { LocalContext } from "./context.ts";

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");

export function createPayloads(ctx: LocalContext): World["payloads"] {
  const { sql } = ctx;
  const apply = (runId: string, { slot, expected, bytes }: PayloadRewrite): number => {
    if (slot.kind === "event") return sql.rewriteEventPayload.run(bytes, runId, slot.seq, expected).changes;
    if (slot.kind === "inbox")
      return sql.rewriteInboxPayload.run(bytes, runId, slot.itemId, expected).changes;
    if (slot.kind === "eventLogs") {
      const path = `$.${slot.field}.sealed`;
      return sql.rewriteEventLogs.run(path, base64(bytes), runId, slot.seq, path, base64(expected)).changes;
    }
    if (slot.kind === "hookResponse") {
      const [from, to] = [base64(expected), base64(bytes)];
      sql.rewriteHookCreatedResponse.run(to, runId, slot.hookId, from);
      return sql.rewriteHookResponse.run(to, runId, slot.hookId, from).changes;
    }
    return sql.rewriteChunk.run(bytes, runId, slot.name, slot.index, expected).changes;
  };
  return {
    async rewrite(runId, rewrites) {
      ctx.enter();
      checkPayloadRewrites(runId, rewrites);
      return ctx.write((): PayloadRewriteResult => {
        if (sql.runExists.get(runId) === undefined) throw new RunNotFoundError(runId);
        let rewritten = 0;
        for (const rewrite of rewrites) rewritten += apply(runId, rewrite);
        return { rewritten, skipped: rewrites.length - rewritten };
      });
    },
  };
}
