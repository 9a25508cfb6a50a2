/**
 * The postgres World's message queue, in the same database as the runs (so an append enqueues in
 * its own transaction). A claim is one statement: it locks due messages with FOR UPDATE SKIP
 * LOCKED (concurrent claimers pass over each other's rows instead of waiting or double-claiming)
 * and leases them; a claim whose lease ran out is claimable again. When a message is due follows
 * the caller's wall clock; its lease, the database's (see `queries.ts`). A claim for some
 * workflows or code versions reads only their messages (each message carries its run's workflow
 * and version, indexed; migrations 007 and 014). Dedupe keys are a partial unique index over waiting messages. Every enqueue and release
 * notifies the queue.
 */
import { RunNotFoundError } from "../../errors/world.ts";
import { newId } from "../../util/ids.ts";
import type { QueueMessage, World } from "../../world/types.ts";
import { type MessageRow, messageFromRow, num } from "../sql/rows.ts";
import type { PgContext } from "./context.ts";

/** Postgres's unique_violation: a waiting message took the released message's dedupe key meanwhile. */
const UNIQUE_VIOLATION = "23505";

/** `QueueFilter.versions` as the JSON array the statements take, '' (runs not pinned yet) added. */
function versionsJson(versions: readonly string[] | undefined): string | null {
  if (versions === undefined) return null;
  return JSON.stringify(["", ...versions.filter((version) => version !== "")]);
}

export function createQueue(ctx: PgContext): World["queue"] {
  const { q } = ctx;
  /** A message whose lease expiry, read at database clock `clock_now`, is shown on our wall clock. */
  const toMessage = (row: MessageRow & { clock_now: string | number }): QueueMessage => {
    const message = messageFromRow(row);
    if (message.lease !== undefined)
      message.lease.expiresAt = ctx.onWallClock(message.lease.expiresAt, row.clock_now);
    return message;
  };
  return {
    async enqueue(messages) {
      ctx.enter();
      if (messages.length === 0) return;
      const wire = messages.map((message) => ({
        id: newId("msg"),
        run: message.runId,
        kind: message.kind,
        ...(message.dedupeKey === undefined ? {} : { key: message.dedupeKey }),
        ...(message.availableAt === undefined ? {} : { at: message.availableAt }),
      }));
      const [row] = await ctx.query<{ missing: string | null }>(q.enqueue, [
        JSON.stringify(wire),
        ctx.now(),
        ctx.channel,
        ctx.notes([["q"]]),
      ]);
      if (row?.missing) throw new RunNotFoundError(row.missing);
      ctx.notifier.emit({ type: "queue" });
    },

    async claim(owner, { limit, leaseMs, workflows, runIds, versions }) {
      ctx.enter();
      if (limit <= 0 || workflows?.length === 0 || runIds?.length === 0) return [];
      const values = [ctx.now(), Math.floor(limit), owner, leaseMs, ctx.leaseClock()];
      const workflowList = workflows === undefined ? null : JSON.stringify(workflows);
      const versionList = versionsJson(versions);
      type Row = MessageRow & { clock_now: string };
      const rows =
        runIds !== undefined
          ? await ctx.query<Row>(q.claimForRuns, [
              ...values,
              JSON.stringify(runIds),
              workflowList,
              versionList,
            ])
          : versionList !== null
            ? workflowList === null
              ? await ctx.query<Row>(q.claimForVersions, [...values, versionList])
              : await ctx.query<Row>(q.claimForVersionsAndWorkflows, [...values, versionList, workflowList])
            : workflowList === null
              ? await ctx.query<Row>(q.claim, values)
              : await ctx.query<Row>(q.claimFor, [...values, workflowList]);
      return rows
        .map(toMessage)
        .sort((a, b) => a.availableAt - b.availableAt || (a.messageId < b.messageId ? -1 : 1));
    },

    async ack(owner, messageIds) {
      ctx.enter();
      if (messageIds.length === 0) return;
      await ctx.query(q.ack, [[...messageIds], owner]);
    },

    async release(owner, messageId, availableAt) {
      ctx.enter();
      const values = [availableAt ?? ctx.now(), messageId, owner, ctx.channel, ctx.notes([["q"]])];
      let rows: unknown[];
      try {
        rows = await ctx.query(q.releaseMessage, values);
      } catch (error) {
        if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
        rows = await ctx.query(q.releaseMessage, values); // the key holder is visible now
      }
      if (rows.length > 0) ctx.notifier.emit({ type: "queue" });
    },

    async extend(owner, messageIds, leaseMs) {
      ctx.enter();
      if (messageIds.length === 0) return [];
      const rows = await ctx.query<{ message_id: string }>(q.extend, [
        leaseMs,
        [...messageIds],
        owner,
        ctx.leaseClock(),
      ]);
      const held = new Set(rows.map((row) => row.message_id));
      return messageIds.filter((messageId) => held.has(messageId));
    },

    async nextAvailableAt(filter = {}) {
      ctx.enter();
      const { workflows, runIds } = filter;
      if (workflows?.length === 0 || runIds?.length === 0) return undefined;
      const values = [ctx.now(), ctx.leaseClock()];
      const workflowList = workflows === undefined ? null : JSON.stringify(workflows);
      const versionList = versionsJson(filter.versions);
      type Row = { next: string | number | null };
      const [row] =
        runIds !== undefined
          ? await ctx.query<Row>(q.nextAvailableAtForRuns, [
              ...values,
              JSON.stringify(runIds),
              workflowList,
              versionList,
            ])
          : versionList !== null
            ? workflowList === null
              ? await ctx.query<Row>(q.nextAvailableAtForVersions, [...values, versionList])
              : await ctx.query<Row>(q.nextAvailableAtForVersionsAndWorkflows, [
                  ...values,
                  versionList,
                  workflowList,
                ])
            : workflowList === null
              ? await ctx.query<{ next: string | number | null }>(q.nextAvailableAt, values)
              : await ctx.query<{ next: string | number | null }>(q.nextAvailableAtFor, [
                  ...values,
                  workflowList,
                ]);
      return row?.next == null ? undefined : num(row.next);
    },

    async list(runId) {
      ctx.enter();
      const rows = await ctx.query<MessageRow & { clock_now: string }>(q.runMessages, [
        runId,
        ctx.leaseClock(),
      ]);
      return rows.map(toMessage);
    },
  };
}
