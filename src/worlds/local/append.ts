/**
 * The body of one append, run inside a write transaction (alone, or within a group commit under
 * its own savepoint): check the run (`checkAppend`), insert the events, apply their projection
 * effects (`projectEvent`) to the tables, then the request's enqueues, inbox takes, acks and lease
 * release. It reads one runs row, never the log. Any error it throws leaves the caller to roll back.
 */
import { ConflictError, HookTokenConflictError, RunNotFoundError } from "../../errors/world.ts";
import type { EventRecord } from "../../world/events.ts";
import { applyRunVersion, checkAppend, type ProjectionEffect, projectEvent } from "../../world/projection.ts";
import type { AppendRequest, AppendResult, RunRecord } from "../../world/types.ts";
import { appendedRun, releaseAfterAppend } from "../shared.ts";
import { runFromHead } from "../sql/rows.ts";
import type { LocalContext } from "./context.ts";
import { insertMessage } from "./queue.ts";

const NO_BYTES = new Uint8Array(0);

export function applyAppend(ctx: LocalContext, request: AppendRequest): AppendResult {
  const { sql } = ctx;
  const head = sql.runHead.get(request.runId);
  if (!head) throw new RunNotFoundError(request.runId);
  const run = runFromHead(head, NO_BYTES);
  checkAppend(run, request);
  const statusBefore = run.status;

  const at = ctx.now();
  const events: EventRecord[] = [];
  for (const event of request.events) {
    const seq = run.seq + events.length + 1;
    const data = JSON.stringify(event.data);
    const createdAt = event.createdAt ?? at;
    sql.insertEvent.run(run.runId, seq, event.type, data, event.payload ?? null, createdAt);
    const record = {
      runId: run.runId,
      seq,
      type: event.type,
      data: JSON.parse(data),
      createdAt,
    } as EventRecord;
    if (event.payload !== undefined) {
      record.payload = new Uint8Array(event.payload);
      run.payloadBytes += event.payload.length;
    }
    events.push(record);
    for (const effect of projectEvent(record)) applyEffect(ctx, run, record, effect);
  }
  run.seq += events.length;
  run.updatedAt = at;

  for (const message of request.enqueue ?? []) {
    if (message.runId !== run.runId && sql.runExists.get(message.runId) === undefined) continue;
    insertMessage(ctx, message, at);
  }
  for (const itemId of request.consumeInbox ?? [])
    run.payloadBytes -= sql.consumeInbox.get(itemId, run.runId) ?? 0;
  if (request.owner !== undefined) {
    for (const messageId of request.ack ?? []) sql.ack.run(messageId, request.owner);
  }

  const leaseReleased =
    request.releaseLease && request.owner !== undefined ? releaseAfterAppend(run, request.owner) : undefined;

  const rest = [
    run.startedAt ?? null,
    run.completedAt ?? null,
    run.updatedAt,
    run.lease?.owner ?? null,
    run.lease?.expiresAt ?? null,
    run.wakePending ? 1 : 0,
    run.runId,
  ] as const;
  if (run.status === statusBefore) sql.updateRunProgress.run(run.seq, run.payloadBytes, ...rest);
  else sql.updateRun.run(run.status, run.seq, run.payloadBytes, ...rest);

  const result: AppendResult = { seq: run.seq, events, run: appendedRun(run) };
  if (leaseReleased !== undefined) result.leaseReleased = leaseReleased;
  return result;
}

function applyEffect(ctx: LocalContext, run: RunRecord, event: EventRecord, effect: ProjectionEffect): void {
  const { sql } = ctx;
  const payloadSeq = event.payload === undefined ? null : event.seq;
  switch (effect.kind) {
    case "run.update":
      Object.assign(run, effect.set);
      return;
    case "step.start": {
      const { step } = effect;
      sql.startStep.run(
        run.runId,
        step.stepId,
        step.stepName,
        step.attempt,
        payloadSeq,
        step.createdAt,
        step.startedAt,
        step.updatedAt,
      );
      return;
    }
    case "step.update": {
      const { set } = effect;
      sql.updateStep.run(
        set.status ?? null,
        set.attempt ?? null,
        set.output === undefined ? null : event.seq,
        set.error === undefined ? null : event.seq,
        set.startedAt ?? null,
        set.completedAt ?? null,
        set.retryAt ?? null,
        event.createdAt,
        run.runId,
        effect.stepId,
      );
      return;
    }
    case "hook.create": {
      const { hook } = effect;
      if (sql.hookExists.get(hook.hookId) !== undefined) {
        throw new ConflictError(`A hook with id ${hook.hookId} already exists (run ${run.runId}).`);
      }
      const holder = sql.tokenHolder.get(hook.token);
      if (holder !== undefined) throw new HookTokenConflictError(hook.token, holder);
      const meta = hook.meta === undefined ? null : JSON.stringify(hook.meta);
      sql.insertHook.run(hook.hookId, run.runId, hook.token, hook.kind, meta, hook.createdAt);
      return;
    }
    case "hook.dispose":
      sql.disposeHook.run(effect.at, effect.hookId, run.runId);
      return;
    case "hooks.disposeAll":
      sql.disposeRunHooks.run(effect.at, run.runId);
      return;
    case "wait.create": {
      const { wait } = effect;
      const inserted = sql.insertWait.run(
        run.runId,
        wait.waitId,
        wait.kind,
        wait.eventType ?? null,
        wait.resumeAt,
        wait.createdAt,
      );
      if (inserted.changes === 0) {
        throw new ConflictError(`Run ${run.runId} already has a wait with id ${wait.waitId}.`);
      }
      return;
    }
    case "wait.complete":
      sql.completeWait.run(effect.status, effect.at, run.runId, effect.waitId);
      return;
    case "waits.cancelAll":
      sql.cancelRunWaits.run(effect.at, run.runId);
      return;
    case "run.restart":
      run.status = "pending";
      delete run.startedAt;
      delete run.completedAt;
      return;
    case "hook.rearm": {
      const token = sql.hookToken.get(effect.hookId, run.runId);
      if (token === undefined) return;
      const holder = sql.tokenHolder.get(token);
      if (holder !== undefined) throw new HookTokenConflictError(token, holder);
      sql.rearmHook.run(effect.hookId, run.runId);
      return;
    }
    case "wait.rearm":
      sql.rearmWait.run(run.runId, effect.waitId);
      return;
    case "run.version":
      applyRunVersion(run, effect);
      sql.setRunVersion.run(effect.bundleHash, effect.minSpecVersion ?? 0, run.runId);
      return;
  }
}
