/**
 * The local World's message queue. A claim is one UPDATE ... RETURNING over the due messages in
 * `available_at` order, inside a write transaction, so two processes can never claim the same
 * message. When a message is due follows the wall clock (`available_at`: a delay is a wall-clock
 * promise); its lease runs on the monotonic clock (`lease-clock.ts`), and a message leased to a
 * process on this host that has certainly died is claimable at once. Each message carries its
 * run's workflow and code version, indexed, so a claim for some workflows or versions reads only
 * theirs.
 */

import { RunNotFoundError } from "../../errors/world.ts";
import { newId } from "../../util/ids.ts";
import type { NewMessage, World } from "../../world/types.ts";
import { messageFromRow } from "../sql/rows.ts";
import type { LocalContext } from "./context.ts";

/** Inserts a message unless its dedupe key is held by a waiting message. Call inside a write transaction. */
export function insertMessage(ctx: LocalContext, message: NewMessage, at: number): void {
  const { sql } = ctx;
  if (message.dedupeKey !== undefined && sql.waitingWithKey.get(message.dedupeKey) !== undefined) return;
  sql.insertMessage.run(
    newId("msg"),
    message.runId,
    message.kind,
    message.dedupeKey ?? null,
    message.availableAt ?? at,
    ctx.now(),
    message.runId,
  );
}

/**
 * `QueueFilter.workflows` as the JSON text the statements take. The last list is remembered by
 * identity (the worker passes the same frozen list until a registration changes it); a list is
 * `readonly`, so a caller never changes one it has passed.
 */
let lastWorkflows: readonly string[] | undefined;
let lastWorkflowsJson = "[]";
function workflowsJson(workflows: readonly string[]): string {
  if (workflows !== lastWorkflows) {
    lastWorkflows = workflows;
    lastWorkflowsJson = JSON.stringify(workflows);
  }
  return lastWorkflowsJson;
}

/**
 * `QueueFilter.versions` as the JSON text the statements take, '' (runs not pinned yet) added.
 * Remembered by identity as `workflowsJson` is.
 */
let lastVersions: readonly string[] | undefined;
let lastVersionsJson = '[""]';
function versionsJson(versions: readonly string[]): string {
  if (versions !== lastVersions) {
    lastVersions = versions;
    lastVersionsJson = JSON.stringify(["", ...versions.filter((version) => version !== "")]);
  }
  return lastVersionsJson;
}

/** JSON list of the owners of unexpired message leases that are dead processes on this host. */
function deadLeaseOwners(ctx: LocalContext): string {
  const dead = ctx.sql.leaseOwners.all().filter((owner) => ctx.isOwnerDead(owner));
  return JSON.stringify(dead);
}

export function createQueue(ctx: LocalContext): World["queue"] {
  const { sql } = ctx;
  return {
    async enqueue(messages) {
      ctx.enter();
      ctx.write(() => {
        for (const message of messages) {
          if (sql.runExists.get(message.runId) === undefined) throw new RunNotFoundError(message.runId);
        }
        const at = ctx.now();
        for (const message of messages) insertMessage(ctx, message, at);
      });
      if (messages.length > 0) ctx.notifier.emit({ type: "queue" });
    },

    async claim(owner, { limit, leaseMs, workflows, runIds, versions }) {
      ctx.enter();
      const rows = ctx.write(() => {
        const at = ctx.now();
        const dead = deadLeaseOwners(ctx);
        const lease = ctx.leases.take(leaseMs);
        const params = { owner, ...lease, now: at, dead, limit: Math.max(0, limit) };
        const versionList = versions === undefined ? null : versionsJson(versions);
        if (runIds !== undefined) {
          const workflowList = workflows === undefined ? null : workflowsJson(workflows);
          return sql.claimForRuns.all({
            ...params,
            runs: JSON.stringify(runIds),
            workflows: workflowList,
            versions: versionList,
          });
        }
        if (versionList !== null) {
          if (workflows === undefined) return sql.claimForVersions.all({ ...params, versions: versionList });
          return sql.claimForVersionsAndWorkflows.all({
            ...params,
            versions: versionList,
            workflows: workflowsJson(workflows),
          });
        }
        if (workflows === undefined) return sql.claim.all(params);
        return sql.claimFor.all({ ...params, workflows: workflowsJson(workflows) });
      });
      return rows
        .map(messageFromRow)
        .sort((a, b) => a.availableAt - b.availableAt || (a.messageId < b.messageId ? -1 : 1));
    },

    async ack(owner, messageIds) {
      ctx.enter();
      ctx.write(() => {
        for (const messageId of messageIds) sql.ack.run(messageId, owner);
      });
    },

    async release(owner, messageId, availableAt) {
      ctx.enter();
      const changed = ctx.write(
        () => sql.releaseMessage.run(availableAt ?? ctx.now(), messageId, owner).changes,
      );
      if (changed > 0) ctx.notifier.emit({ type: "queue" });
    },

    async extend(owner, messageIds, leaseMs) {
      ctx.enter();
      return ctx.write(() => {
        const lease = ctx.leases.take(leaseMs);
        return messageIds.filter(
          (messageId) =>
            sql.extendMessage.run(lease.expiresAt, lease.clock, lease.until, messageId, owner).changes > 0,
        );
      });
    },

    async nextAvailableAt(filter = {}) {
      ctx.enter();
      const workflows = filter.workflows === undefined ? undefined : workflowsJson(filter.workflows);
      return ctx.read(() => {
        const now = ctx.now();
        const dead = deadLeaseOwners(ctx);
        const versions = filter.versions === undefined ? null : versionsJson(filter.versions);
        if (filter.runIds !== undefined) {
          const mine = { runs: JSON.stringify(filter.runIds), workflows: workflows ?? null, versions };
          const waiting = sql.nextWaitingForRuns.get(mine) ?? null;
          const leased = sql.nextLeasedForRuns.get({ ...mine, now, dead }) ?? null;
          if (waiting === null) return leased ?? undefined;
          return leased === null ? waiting : Math.min(waiting, leased);
        }
        if (versions !== null) {
          const waiting =
            (workflows === undefined
              ? sql.nextWaitingForVersions.get({ versions })
              : sql.nextWaitingForVersionsAndWorkflows.get({ versions, workflows })) ?? null;
          const leased =
            (workflows === undefined
              ? sql.nextLeasedForVersions.get({ now, dead, versions })
              : sql.nextLeasedForVersionsAndWorkflows.get({ now, dead, versions, workflows })) ?? null;
          if (waiting === null) return leased ?? undefined;
          return leased === null ? waiting : Math.min(waiting, leased);
        }
        const waiting =
          (workflows === undefined ? sql.nextWaiting.get() : sql.nextWaitingFor.get(workflows)) ?? null;
        const leased =
          (workflows === undefined
            ? sql.nextLeased.get({ now, dead })
            : sql.nextLeasedFor.get({ now, dead, workflows })) ?? null;
        if (waiting === null) return leased ?? undefined;
        return leased === null ? waiting : Math.min(waiting, leased);
      });
    },

    async list(runId) {
      ctx.enter();
      return sql.runMessages.all(runId).map(messageFromRow);
    },
  };
}
