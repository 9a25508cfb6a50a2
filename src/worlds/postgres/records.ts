/**
 * The postgres World's read side of the projections (steps, hooks, waits) and the inbox. Steps are
 * read joined with the events that carried their payloads. `inbox.put` stores the item and its
 * "inbox" message in one statement, after checking (under a share lock on the run row, so a run
 * ending at the same moment is seen) that the run exists and has not ended.
 */
import {
  ConflictError,
  HookNotFoundError,
  NotFoundError,
  RunFinishedError,
  RunNotFoundError,
} from "../../errors/world.ts";
import { newId } from "../../util/ids.ts";
import { type InboxItem, type RunStatus, TERMINAL_RUN_STATUSES, type World } from "../../world/types.ts";
import { checkRunBudget } from "../shared.ts";
import {
  type HookRow,
  hookFromRow,
  type InboxRow,
  inboxFromRow,
  num,
  type StepRow,
  stepFromRow,
  type WaitRow,
  waitFromRow,
} from "../sql/rows.ts";
import type { PgContext } from "./context.ts";

/** LIMIT NULL is no limit. */
const limitOf = (limit: number | undefined): number | null =>
  limit === undefined ? null : Math.max(0, Math.floor(limit));

export function createRecords(ctx: PgContext): Pick<World, "steps" | "hooks" | "waits" | "inbox"> {
  const { q } = ctx;
  const mustExist = async (runId: string): Promise<void> => {
    if ((await ctx.query(q.runExists, [runId])).length === 0) throw new RunNotFoundError(runId);
  };

  return {
    steps: {
      async list(runId) {
        ctx.enter();
        const rows = await ctx.query<StepRow>(q.steps, [runId]);
        if (rows.length === 0) await mustExist(runId);
        return rows.map(stepFromRow);
      },
      async get(runId, stepId) {
        ctx.enter();
        const [row] = await ctx.query<StepRow>(q.step, [runId, stepId]);
        if (!row) throw new NotFoundError(`Run ${runId} has no step with id ${stepId}.`);
        return stepFromRow(row);
      },
    },

    hooks: {
      async getByToken(token) {
        ctx.enter();
        const [row] = await ctx.query<HookRow>(q.hookByToken, [token]);
        if (!row) throw new HookNotFoundError(token);
        return hookFromRow(row);
      },
      async get(hookId) {
        ctx.enter();
        const [row] = await ctx.query<HookRow>(q.hook, [hookId]);
        if (!row) throw new NotFoundError(`No hook with id ${hookId} exists.`);
        return hookFromRow(row);
      },
      async list(filter = {}) {
        ctx.enter();
        const status = filter.status ?? null;
        const limit = limitOf(filter.limit);
        const rows =
          filter.runId !== undefined
            ? await ctx.query<HookRow>(q.runHooks, [filter.runId, status, limit])
            : await ctx.query<HookRow>(q.allHooks, [status, limit]);
        return rows.map(hookFromRow);
      },
    },

    waits: {
      async list(filter = {}) {
        ctx.enter();
        const status = filter.status ?? null;
        const limit = limitOf(filter.limit);
        if (filter.runId === undefined) {
          return (await ctx.query<WaitRow>(q.allWaits, [status, limit])).map(waitFromRow);
        }
        const rows = await ctx.query<WaitRow>(q.runWaits, [filter.runId, status, limit]);
        if (rows.length === 0) await mustExist(filter.runId);
        return rows.map(waitFromRow);
      },
    },

    inbox: {
      async put(input, budget = {}) {
        ctx.enter();
        const at = ctx.now();
        const item: InboxItem = {
          itemId: input.itemId ?? newId("inbox"),
          runId: input.runId,
          kind: input.kind,
          createdAt: at,
        };
        if (input.hookId !== undefined) item.hookId = input.hookId;
        if (input.eventType !== undefined) item.eventType = input.eventType;
        if (input.generation !== undefined) item.generation = input.generation;
        if (input.payload !== undefined) item.payload = new Uint8Array(input.payload);
        const [row] = await ctx.query<{
          status: string | null;
          payload_bytes: string | number | null;
          stored: boolean;
        }>(q.putInbox, [
          input.runId,
          item.itemId,
          input.kind,
          input.hookId ?? null,
          item.payload ?? null,
          at,
          newId("msg"),
          ctx.channel,
          ctx.notes([["q"], ["i", input.runId]]),
          budget.maxRunBytes ?? null,
          input.eventType ?? null,
          input.generation ?? null,
        ]);
        const status = row?.status ?? null;
        if (status === null) throw new RunNotFoundError(input.runId);
        if (TERMINAL_RUN_STATUSES.has(status as RunStatus)) throw new RunFinishedError(input.runId, status);
        if (!row?.stored) {
          const run = { runId: input.runId, payloadBytes: num(row?.payload_bytes ?? 0) };
          checkRunBudget(run, input.payload?.length ?? 0, budget, "A payload for its inbox");
          throw new ConflictError(`An inbox item with id ${item.itemId} already exists.`);
        }
        ctx.notifier.emit({ type: "queue" });
        ctx.notifier.emit({ type: "inbox", runId: input.runId });
        return item;
      },
      async list(runId) {
        ctx.enter();
        const rows = await ctx.query<InboxRow | { item_id: null }>(q.inbox, [runId]);
        if (rows.length === 0) throw new RunNotFoundError(runId);
        return rows.flatMap((row) => (row.item_id === null ? [] : [inboxFromRow(row as InboxRow)]));
      },
    },
  };
}
