/**
 * Small helpers shared by the World implementations: run filters, cursor pagination, the
 * up-front hook-token and id checks of an append for Worlds that cannot roll back, the making
 * of audit entries, the handling of ids given twice in one `runs.createMany` batch, and the checks
 * of `payloads.rewrite`.
 */
import { monotonicFactory } from "ulid";
import { ConflictError, HookTokenConflictError, NotFoundError, RunIdConflictError } from "../errors/world.ts";
import { runTooLarge } from "../util/bytes.ts";
import type { EventDataMap, NewEvent } from "../world/events.ts";
import {
  type AppendedRun,
  type AuditEntry,
  type CreatedRun,
  type CreateRunInput,
  type HookRecord,
  type ListRunsFilter,
  type NewAuditEntry,
  type Page,
  type PayloadRewrite,
  type RunBudget,
  type RunRecord,
  TERMINAL_RUN_STATUSES,
} from "../world/types.ts";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  return Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit)));
}

export function statusList(filter: ListRunsFilter): readonly string[] | undefined {
  if (filter.status === undefined) return undefined;
  return typeof filter.status === "string" ? [filter.status] : filter.status;
}

export function runMatches(run: RunRecord, filter: ListRunsFilter): boolean {
  const statuses = statusList(filter);
  if (statuses !== undefined && !statuses.includes(run.status)) return false;
  const names = workflowNameList(filter);
  if (names !== undefined && !names.includes(run.workflowName)) return false;
  if (filter.createdSince !== undefined && run.createdAt < filter.createdSince) return false;
  if (filter.createdBefore !== undefined && run.createdAt >= filter.createdBefore) return false;
  return true;
}

/** The filter's workflow names as a list (undefined: no filter; empty: matches nothing). */
export function workflowNameList(filter: ListRunsFilter): readonly string[] | undefined {
  if (filter.workflowName === undefined) return undefined;
  return typeof filter.workflowName === "string" ? [filter.workflowName] : filter.workflowName;
}

/** What an append reports of its run (`AppendedRun`): its id, status, sequence number and byte count. */
export function appendedRun(run: Pick<RunRecord, "runId" | "status" | "seq" | "payloadBytes">): AppendedRun {
  return { runId: run.runId, status: run.status, seq: run.seq, payloadBytes: run.payloadBytes };
}

/**
 * An append's `releaseLease` for `owner`, applied to the run as the append left it; returns
 * `leaseReleased`. The lease stays (and the flag is cleared) when someone asked for the run
 * meanwhile (`wakePending`), unless the run has just ended; an owner without the lease "released" it.
 */
export function releaseAfterAppend(run: RunRecord, owner: string): boolean {
  if (run.lease?.owner !== owner) return true;
  const stay = run.wakePending && !TERMINAL_RUN_STATUSES.has(run.status);
  run.wakePending = false;
  if (stay) return false;
  delete run.lease;
  return true;
}

/**
 * Keyset pagination over a list sorted in page order and NOT yet filtered: the cursor is the key of
 * the last item of the previous page, and the next page holds the matching items that sort after it.
 * The cursor item need not match the filter any more (a run whose status changed between two pages
 * does not end the listing); a cursor naming no item gives an empty page.
 */
export function pageOf<T>(
  sorted: readonly T[],
  filter: Pick<ListRunsFilter, "limit" | "cursor">,
  key: (item: T) => string,
  matches: (item: T) => boolean,
): Page<T> {
  const size = pageSize(filter.limit);
  let start = 0;
  if (filter.cursor !== undefined) {
    const at = sorted.findIndex((item) => key(item) === filter.cursor);
    if (at === -1) return { items: [] };
    start = at + 1;
  }
  const items: T[] = [];
  let more = false;
  for (let index = start; index < sorted.length; index++) {
    const item = sorted[index] as T;
    if (!matches(item)) continue;
    if (items.length === size) {
      more = true;
      break;
    }
    items.push(item);
  }
  const page: Page<T> = { items };
  const last = items[items.length - 1];
  if (last !== undefined && more) page.nextCursor = key(last);
  return page;
}

/** What `checkHookAndWaitIds` needs to know about the World's current state. */
export interface HookAndWaitLookups {
  hook(hookId: string): Pick<HookRecord, "runId" | "token" | "status"> | undefined;
  /** The run whose active hook holds `token`, if any. */
  tokenHolder(token: string): string | undefined;
  /** Whether the appending run already has a wait with this id. */
  waitExists(waitId: string): boolean;
}

/**
 * For a World that checks before it writes (one that cannot roll back): throws what the append's
 * events would hit, in event order. `HookTokenConflictError` when a `hook_created` takes a token
 * held by an active hook (of any run, or created earlier in the same append and not disposed since);
 * `ConflictError` when it reuses a hook id, or a `wait_created` or `event_wait_created` reuses one
 * of the run's wait ids.
 * A `hook_disposed` of the run's own active hook frees its token for the events after it. A
 * `run_restarted` re-arms the run's kept hooks: `HookTokenConflictError` when another active hook
 * holds one of their tokens meanwhile.
 */
export function checkHookAndWaitIds(
  runId: string,
  events: readonly NewEvent[],
  lookups: HookAndWaitLookups,
): void {
  const created = new Map<string, string>(); // hookId -> token, for hooks created in this append
  const freed = new Set<string>(); // tokens freed by a hook_disposed earlier in this append
  const taken = new Set<string>(); // tokens taken earlier in this append
  const waits = new Set<string>();
  for (const event of events) {
    if (event.type === "hook_disposed") {
      const existing = lookups.hook(event.data.hookId);
      const token =
        created.get(event.data.hookId) ??
        (existing?.runId === runId && existing.status === "active" ? existing.token : undefined);
      if (token === undefined) continue;
      if (!taken.delete(token)) freed.add(token);
    } else if (event.type === "hook_created") {
      const { hookId, token } = event.data;
      if (lookups.hook(hookId) !== undefined || created.has(hookId)) {
        throw new ConflictError(`A hook with id ${hookId} already exists (run ${runId}).`);
      }
      if (taken.has(token)) throw new HookTokenConflictError(token, runId);
      const holder = lookups.tokenHolder(token);
      if (holder !== undefined && !freed.has(token))
        throw new HookTokenConflictError(token, holder || undefined);
      created.set(hookId, token);
      taken.add(token);
    } else if (event.type === "run_restarted") {
      // Kept hooks listen again: their tokens must still be free (the run ended, so none is its own).
      for (const hookId of event.data.hooks ?? []) {
        const hook = lookups.hook(hookId);
        if (hook?.runId !== runId) continue;
        const holder = lookups.tokenHolder(hook.token);
        if (holder !== undefined || taken.has(hook.token))
          throw new HookTokenConflictError(hook.token, holder || undefined);
        taken.add(hook.token);
      }
    } else if (event.type === "wait_created" || event.type === "event_wait_created") {
      const { waitId } = event.data;
      if (lookups.waitExists(waitId) || waits.has(waitId)) {
        throw new ConflictError(`Run ${runId} already has a wait with id ${waitId}.`);
      }
      waits.add(waitId);
    }
  }
}

const nextUlid = monotonicFactory();

/** A fresh audit id, `audit_` and a ULID (increasing within a process). */
export function newAuditId(): string {
  return `audit_${nextUlid()}`;
}

/**
 * The entry a World stores for `input`, with its id and time: a copy (the caller's arrays are not
 * kept), `reason`, `refersTo`, `outcome` and `detail` present only when given.
 */
export function auditEntryOf(input: NewAuditEntry, auditId: string, at: number): AuditEntry {
  const entry: AuditEntry = {
    auditId,
    at,
    actor: { user: String(input.actor.user), host: String(input.actor.host), pid: Number(input.actor.pid) },
    action: String(input.action),
    resource: String(input.resource),
    runIds: input.runIds.map(String),
  };
  if (typeof input.reason === "string") entry.reason = input.reason;
  if (typeof input.refersTo === "string") entry.refersTo = input.refersTo;
  if (input.outcome === "succeeded" || input.outcome === "failed") entry.outcome = input.outcome;
  if (typeof input.detail === "string") entry.detail = input.detail;
  return entry;
}

/**
 * Throws `PayloadTooLargeError` when adding `size` bytes to a run that holds `run.payloadBytes`
 * would take it past `budget.maxRunBytes`. `what` names the write ("A payload for its inbox").
 */
export function checkRunBudget(
  run: Pick<RunRecord, "runId" | "payloadBytes">,
  size: number,
  budget: RunBudget,
  what: string,
): void {
  const max = budget.maxRunBytes;
  if (max !== undefined && run.payloadBytes + size > max)
    throw runTooLarge(what, run.runId, run.payloadBytes, size, max);
}

/**
 * A `runs.createMany` batch with the ids given twice taken out: `unique` holds the first input of
 * each id, in order, and `slots[i]` the index in `unique` of input `i`'s run. An id repeated under
 * another workflow than its first is a `RunIdConflictError` (as a second `create` would be).
 */
export interface RunBatch {
  unique: CreateRunInput[];
  slots: number[];
}

export function planRunBatch(inputs: readonly CreateRunInput[]): RunBatch {
  const unique: CreateRunInput[] = [];
  const first = new Map<string, number>();
  const slots = inputs.map((input) => {
    const seen = first.get(input.runId);
    if (seen === undefined) {
      first.set(input.runId, unique.length);
      unique.push(input);
      return unique.length - 1;
    }
    const held = (unique[seen] as CreateRunInput).workflowName;
    if (held !== input.workflowName) throw new RunIdConflictError(input.runId, held, input.workflowName);
    return seen;
  });
  return { unique, slots };
}

/**
 * The results of a batch in input order, from the results of its `unique` inputs: an input that
 * repeats an id earlier in the batch gets that run with `created: false`.
 */
export function batchResults(batch: RunBatch, results: readonly CreatedRun[]): CreatedRun[] {
  const handed = new Set<number>();
  return batch.slots.map((slot) => {
    const result = results[slot] as CreatedRun;
    const repeat = handed.has(slot);
    handed.add(slot);
    return { run: { ...result.run }, created: result.created && !repeat };
  });
}

/**
 * `payloads.rewrite`'s up-front check: every rewrite keeps its slot's length (so the run's byte
 * count stays true). `ConflictError` naming the first that does not; called before anything is written.
 */
export function checkPayloadRewrites(runId: string, rewrites: readonly PayloadRewrite[]): void {
  for (const { slot, expected, bytes } of rewrites) {
    if (bytes.byteLength === expected.byteLength) continue;
    const where =
      slot.kind === "event"
        ? `event ${slot.seq}`
        : slot.kind === "inbox"
          ? `inbox item ${slot.itemId}`
          : slot.kind === "stream"
            ? `chunk ${slot.index} of stream "${slot.name}"`
            : `the static response of webhook ${slot.hookId}`;
    throw new ConflictError(
      `A payload rewrite of run ${runId} (${where}) would change its length from ${expected.byteLength} to ${bytes.byteLength} bytes: a rewrite replaces bytes with as many bytes (re-encryption keeps the length). Nothing was written.`,
    );
  }
}

/** True when both hold the same bytes. */
export function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return (
    a !== undefined &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    )
  );
}

/** The `run_created` event's data for a new run (every World writes the same). */
export function runCreatedData(input: CreateRunInput): EventDataMap["run_created"] {
  const data: EventDataMap["run_created"] = {
    workflowName: input.workflowName,
    seed: input.seed,
    specVersion: input.specVersion,
  };
  if (input.bundleHash !== undefined) data.bundleHash = input.bundleHash;
  return data;
}

/** `bundles.get` of a hash no World holds. */
export function bundleNotFound(hash: string): NotFoundError {
  return new NotFoundError(
    `No workflow bundle with hash ${hash} is stored: the runs pinned to it cannot replay. It is stored when a run of it starts; was the World restored from a backup, or the run imported without its bundle?`,
  );
}
