/**
 * The local World's read side of the projections (steps, hooks, waits) and the inbox. Steps are
 * read joined with the events that carried their payloads.
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
import { hookFromRow, inboxFromRow, num, stepFromRow, waitFromRow } from "../sql/rows.ts";
import type { LocalContext } from "./context.ts";
import { insertMessage } from "./queue.ts";

/** SQLite's LIMIT -1 means no limit. */
const limitOf = (limit: number | undefined): number =>
  limit === undefined ? -1 : Math.max(0, Math.floor(limit));

export function createRecords(ctx: LocalContext): Pick<World, "steps" | "hooks" | "waits" | "inbox"> {
  const { sql } = ctx;
  const mustExist = (runId: string): void => {
    if (sql.runExists.get(runId) === undefined) throw new RunNotFoundError(runId);
  };

  return {
    steps: {
      async list(runId) {
        ctx.enter();
        return ctx.read(() => {
          const rows = sql.steps.all(runId);
          if (rows.length === 0) mustExist(runId);
          return rows.map(stepFromRow);
        });
      },
      async get(runId, stepId) {
        ctx.enter();
        const row = sql.step.get(runId, stepId);
        if (!row) throw new NotFoundError(`Run ${runId} has no step with id ${stepId}.`);
        return stepFromRow(row);
      },
    },

    hooks: {
      async getByToken(token) {
        ctx.enter();
        const row = sql.hookByToken.get(token);
        if (!row) throw new HookNotFoundError(token);
        return hookFromRow(row);
      },
      async get(hookId) {
        ctx.enter();
        const row = sql.hook.get(hookId);
        if (!row) throw new NotFoundError(`No hook with id ${hookId} exists.`);
        return hookFromRow(row);
      },
      async list(filter = {}) {
        ctx.enter();
        const status = filter.status ?? null;
        const limit = limitOf(filter.limit);
        const rows =
          filter.runId !== undefined
            ? sql.runHooks.all(filter.runId, status, status, limit)
            : sql.allHooks.all(status, status, limit);
        return rows.map(hookFromRow);
      },
    },

    waits: {
      async list(filter = {}) {
        ctx.enter();
        const status = filter.status ?? null;
        const limit = limitOf(filter.limit);
        if (filter.runId === undefined) return sql.allWaits.all(status, status, limit).map(waitFromRow);
        const runId = filter.runId;
        return ctx.read(() => {
          mustExist(runId);
          return sql.runWaits.all(runId, status, status, limit).map(waitFromRow);
        });
      },
    },

    inbox: {
      async put(input, budget = {}) {
        ctx.enter();
        const item = ctx.write((): InboxItem => {
          const head = sql.runHead.get(input.runId);
          if (!head) throw new RunNotFoundError(input.runId);
          if (TERMINAL_RUN_STATUSES.has(head.status as RunStatus))
            throw new RunFinishedError(input.runId, head.status);
          const itemId = input.itemId ?? newId("inbox");
          if (sql.inboxItemExists.get(itemId) !== undefined)
            throw new ConflictError(`An inbox item with id ${itemId} already exists.`);
          const size = input.payload?.length ?? 0;
          const run = { runId: input.runId, payloadBytes: num(head.payload_bytes) };
          checkRunBudget(run, size, budget, "A payload for its inbox");
          if (size > 0) sql.addPayloadBytes.run(size, input.runId);
          const at = ctx.now();
          const created: InboxItem = {
            itemId,
            runId: input.runId,
            kind: input.kind,
            createdAt: at,
          };
          if (input.hookId !== undefined) created.hookId = input.hookId;
          if (input.eventType !== undefined) created.eventType = input.eventType;
          if (input.generation !== undefined) created.generation = input.generation;
          if (input.payload !== undefined) created.payload = new Uint8Array(input.payload);
          sql.insertInbox.run(
            created.itemId,
            input.runId,
            input.kind,
            input.hookId ?? null,
            input.eventType ?? null,
            input.generation ?? null,
            input.payload ?? null,
            at,
          );
          insertMessage(ctx, { runId: input.runId, kind: "inbox", availableAt: at }, at);
          return created;
        });
        ctx.notifier.emit({ type: "queue" });
        ctx.notifier.emit({ type: "inbox", runId: input.runId });
        return item;
      },
      async list(runId) {
        ctx.enter();
        return ctx.read(() => {
          const rows = sql.inbox.all(runId);
          if (rows.length === 0) mustExist(runId);
          return rows.map(inboxFromRow);
        });
      },
    },
  };
}
