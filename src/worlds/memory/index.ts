/**
 * The memory World: everything in this process's heap, nothing survives it. Useful for unit tests
 * and for trying things out (`STEPWISE_WORLD=memory`). It honours the whole World contract (the
 * conformance suite runs against it), including leases, fencing and delayed messages.
 */
import {
  ConflictError,
  HookNotFoundError,
  NotFoundError,
  RunFinishedError,
  RunIdConflictError,
  RunNotFoundError,
} from "../../errors/world.ts";
import { newId } from "../../util/ids.ts";
import type { EventRecord } from "../../world/events.ts";
import { createNotifier } from "../../world/notify.ts";
import { applyRunVersion, checkAppend, leaseBlocks, projectEvent } from "../../world/projection.ts";
import {
  type AcquireResult,
  type AppendRequest,
  type AppendResult,
  type AuditEntry,
  type BundleRecord,
  type CreatedRun,
  type CreateRunInput,
  type HookRecord,
  type InboxItem,
  type QueueFilter,
  type QueueMessage,
  type RunRecord,
  type StepRecord,
  type StreamChunk,
  type StreamInfo,
  TERMINAL_RUN_STATUSES,
  type WaitRecord,
  type World,
} from "../../world/types.ts";
import {
  checkExistingImport,
  checkImportInput,
  importCreateInput,
  importExtraBytes,
  importSegments,
} from "../import-run.ts";
import {
  appendedRun,
  auditEntryOf,
  batchResults,
  bundleNotFound,
  checkHookAndWaitIds,
  checkPayloadRewrites,
  checkRunBudget,
  newAuditId,
  pageOf,
  planRunBatch,
  releaseAfterAppend,
  runCreatedData,
  runMatches,
} from "../shared.ts";
import { rewritePayloads } from "./payloads.ts";

interface RunState {
  run: RunRecord;
  events: EventRecord[];
  steps: Map<string, StepRecord>;
  waits: Map<string, WaitRecord>;
  inbox: Map<string, InboxItem>;
  streams: Map<string, { info: StreamInfo; chunks: StreamChunk[] }>;
}

export interface MemoryWorldOptions {
  /** Clock, for tests. Defaults to `Date.now`. */
  now?: () => number;
}

/**
 * A World in this process's heap: the reference implementation of the contract (`World`), for
 * tests and trials. `now` replaces the clock (timestamps, due times and leases all read it).
 */
export function createMemoryWorld(options: MemoryWorldOptions = {}): World {
  const now = options.now ?? Date.now;
  const runs = new Map<string, RunState>();
  const hooks = new Map<string, HookRecord>();
  const activeTokens = new Map<string, string>(); // token -> hookId
  const messages = new Map<string, QueueMessage>();
  const inboxIds = new Set<string>();
  const notifier = createNotifier();
  let closed = false;

  const live = (): void => {
    if (closed) throw new ConflictError("This World has been closed.");
  };
  const stateOf = (runId: string): RunState => {
    const state = runs.get(runId);
    if (!state) throw new RunNotFoundError(runId);
    return state;
  };
  const copy = <T extends object>(value: T): T => ({ ...value });
  /** The World keeps its own copy of bytes it is given, so a caller reusing a buffer changes nothing. */
  const own = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);
  /** Event data is plain JSON in every World: store what a JSON round trip gives. */
  const asJson = <T>(data: T): T => JSON.parse(JSON.stringify(data)) as T;
  const waitLog: WaitRecord[] = []; // every wait of every run, in creation order
  const auditLog: AuditEntry[] = []; // newest first
  const notices = new Set<string>();
  const bundles = new Map<string, BundleRecord>();
  const copyAudit = (entry: AuditEntry): AuditEntry => ({
    ...entry,
    actor: { ...entry.actor },
    runIds: [...entry.runIds],
  });

  const enqueue = (runId: string, kind: string, dedupeKey: string | undefined, availableAt: number): void => {
    if (dedupeKey !== undefined) {
      for (const message of messages.values()) {
        if (message.dedupeKey === dedupeKey && message.lease === undefined) return;
      }
    }
    const message: QueueMessage = {
      messageId: newId("msg"),
      runId,
      kind,
      availableAt,
      deliveries: 0,
      createdAt: now(),
    };
    if (dedupeKey !== undefined) message.dedupeKey = dedupeKey;
    messages.set(message.messageId, message);
  };

  const heldBy = (message: QueueMessage, owner: string): boolean => message.lease?.owner === owner;
  /** `QueueFilter.workflows` as a predicate on messages. */
  const workflowFilter = (workflows: readonly string[] | undefined): ((message: QueueMessage) => boolean) => {
    if (workflows === undefined) return () => true;
    const names = new Set(workflows);
    return (message) => {
      const name = runs.get(message.runId)?.run.workflowName;
      return name !== undefined && names.has(name);
    };
  };
  /** `QueueFilter.versions` as a predicate on messages: runs pinned to one of them, or not pinned. */
  const versionFilter = (versions: readonly string[] | undefined): ((message: QueueMessage) => boolean) => {
    if (versions === undefined) return () => true;
    const hashes = new Set(versions);
    return (message) => {
      const entry = runs.get(message.runId);
      if (entry === undefined) return false;
      return entry.run.bundleHash === undefined || hashes.has(entry.run.bundleHash);
    };
  };
  /** A `QueueFilter` (workflows, runs and versions) as a predicate on messages. */
  const queueFilter = (filter: QueueFilter): ((message: QueueMessage) => boolean) => {
    const byWorkflow = workflowFilter(filter.workflows);
    const byVersion = versionFilter(filter.versions);
    const ids = filter.runIds === undefined ? undefined : new Set(filter.runIds);
    if (ids === undefined && filter.versions === undefined) return byWorkflow;
    return (message) =>
      (ids === undefined || ids.has(message.runId)) && byWorkflow(message) && byVersion(message);
  };

  /** Writes a new run: its record, its `run_created` event and (unless imported) its start message. */
  const insertRun = (input: CreateRunInput, startMessage = true): RunRecord => {
    const at = input.createdAt ?? now();
    const run: RunRecord = {
      runId: input.runId,
      workflowName: input.workflowName,
      status: "pending",
      seq: 1,
      specVersion: input.specVersion,
      seed: input.seed,
      encrypted: input.encrypted === true,
      payloadBytes: input.input.length,
      input: own(input.input),
      createdAt: at,
      updatedAt: at,
      wakePending: false,
    };
    if (input.bundleHash !== undefined) run.bundleHash = input.bundleHash;
    const created: EventRecord = {
      runId: input.runId,
      seq: 1,
      type: "run_created",
      data: runCreatedData(input),
      payload: run.input,
      createdAt: at,
    };
    runs.set(input.runId, {
      run,
      events: [created],
      steps: new Map(),
      waits: new Map(),
      inbox: new Map(),
      streams: new Map(),
    });
    if (startMessage) enqueue(input.runId, "start", `start:${input.runId}`, at);
    return copy(run);
  };

  /** `runs.createMany`: checks the whole batch, then writes it (see `World.runs.createMany`). */
  const createMany = async (inputs: readonly CreateRunInput[]): Promise<CreatedRun[]> => {
    live();
    const batch = planRunBatch(inputs);
    // Check every input before writing any: the batch is all or nothing.
    for (const input of batch.unique) {
      const existing = runs.get(input.runId)?.run;
      if (existing !== undefined && existing.workflowName !== input.workflowName)
        throw new RunIdConflictError(input.runId, existing.workflowName, input.workflowName);
    }
    const results = batch.unique.map((input): CreatedRun => {
      const existing = runs.get(input.runId)?.run;
      return existing ? { run: copy(existing), created: false } : { run: insertRun(input), created: true };
    });
    const created = results.filter((result) => result.created);
    if (created.length > 0) notifier.emit({ type: "queue" });
    for (const { run } of created) notifier.emit({ type: "run", runId: run.runId });
    return batchResults(batch, results);
  };

  const world: World = {
    name: "memory",

    runs: {
      async create(input) {
        const [result] = await createMany([input]);
        return (result as CreatedRun).run;
      },

      createMany,

      async get(runId) {
        live();
        return copy(stateOf(runId).run);
      },

      async list(filter = {}) {
        live();
        const all = [...runs.values()].map((state) => state.run);
        all.sort((a, b) => b.createdAt - a.createdAt || (a.runId < b.runId ? 1 : -1));
        const page = pageOf(
          all,
          filter,
          (run) => run.runId,
          (run) => runMatches(run, filter),
        );
        return { ...page, items: page.items.map(copy) };
      },

      async workflowNames() {
        live();
        return [...new Set([...runs.values()].map((state) => state.run.workflowName))].sort();
      },

      async acquire(runId, owner, leaseMs): Promise<AcquireResult> {
        live();
        const { run } = stateOf(runId);
        const at = now();
        if (leaseBlocks(run.lease, owner, at)) {
          run.wakePending = true;
          notifier.emit({ type: "inbox", runId });
          return { acquired: false, run: copy(run) };
        }
        run.lease = { owner, expiresAt: at + leaseMs };
        return { acquired: true, run: copy(run) };
      },

      async renew(owner, runIds, leaseMs) {
        live();
        const held: string[] = [];
        const at = now();
        for (const runId of runIds) {
          const run = runs.get(runId)?.run;
          if (run?.lease?.owner === owner) {
            run.lease = { owner, expiresAt: at + leaseMs };
            held.push(runId);
          }
        }
        return held;
      },

      async import(input) {
        live();
        checkImportInput(input);
        const existing = runs.get(input.runId)?.run;
        if (existing !== undefined) {
          checkExistingImport(existing, input);
          return { run: copy(existing), imported: false };
        }
        for (const item of input.inbox ?? []) {
          if (inboxIds.has(item.itemId))
            throw new ConflictError(`An inbox item with id ${item.itemId} already exists.`);
        }
        insertRun(importCreateInput(input), false);
        const state = stateOf(input.runId);
        try {
          for (const segment of importSegments(input)) appendNow(segment);
        } catch (error) {
          // All or nothing: the run is new, so everything of it goes (its hooks, their tokens, its waits).
          runs.delete(input.runId);
          for (const [hookId, hook] of hooks) {
            if (hook.runId !== input.runId) continue;
            if (activeTokens.get(hook.token) === hookId) activeTokens.delete(hook.token);
            hooks.delete(hookId);
          }
          for (let i = waitLog.length - 1; i >= 0; i--)
            if (waitLog[i]?.runId === input.runId) waitLog.splice(i, 1);
          throw error;
        }
        for (const item of input.inbox ?? []) {
          const stored: InboxItem = { ...item };
          if (item.payload !== undefined) stored.payload = own(item.payload);
          state.inbox.set(item.itemId, stored);
          inboxIds.add(item.itemId);
        }
        for (const stream of input.streams ?? []) {
          const chunks = stream.chunks.map((chunk) => ({ ...chunk, data: own(chunk.data) }));
          const info = {
            runId: input.runId,
            name: stream.name,
            length: chunks.length,
            closed: stream.closed,
          };
          state.streams.set(stream.name, { info, chunks });
        }
        state.run.payloadBytes += importExtraBytes(input);
        for (const message of input.messages ?? [])
          enqueue(input.runId, message.kind, message.dedupeKey, message.availableAt);
        if ((input.messages?.length ?? 0) > 0) notifier.emit({ type: "queue" });
        notifier.emit({ type: "run", runId: input.runId, status: state.run.status });
        return { run: copy(state.run), imported: true };
      },

      async release(runId, owner) {
        live();
        const { run } = stateOf(runId);
        if (run.lease?.owner !== owner) return true;
        if (run.wakePending) {
          run.wakePending = false;
          return false;
        }
        delete run.lease;
        return true;
      },
    },

    events: {
      async append(request: AppendRequest): Promise<AppendResult> {
        live();
        const result = appendNow(request);
        if ((request.enqueue?.length ?? 0) > 0) notifier.emit({ type: "queue" });
        notifier.emit({ type: "run", runId: result.run.runId, status: result.run.status });
        return result;
      },

      async list(runId, options = {}) {
        live();
        const afterSeq = options.afterSeq ?? 0;
        const limit = options.limit ?? Number.POSITIVE_INFINITY;
        const events = stateOf(runId).events;
        // seq n lives at index n - 1.
        return events.slice(Math.max(0, afterSeq), Math.max(0, afterSeq) + limit).map(copy);
      },
    },

    steps: {
      async list(runId) {
        live();
        return [...stateOf(runId).steps.values()].map(copy);
      },
      async get(runId, stepId) {
        live();
        const step = stateOf(runId).steps.get(stepId);
        if (!step) throw new NotFoundError(`Run ${runId} has no step with id ${stepId}.`);
        return copy(step);
      },
    },

    hooks: {
      async getByToken(token) {
        live();
        const hookId = activeTokens.get(token);
        const hook = hookId === undefined ? undefined : hooks.get(hookId);
        if (!hook) throw new HookNotFoundError(token);
        return copy(hook);
      },
      async get(hookId) {
        live();
        const hook = hooks.get(hookId);
        if (!hook) throw new NotFoundError(`No hook with id ${hookId} exists.`);
        return copy(hook);
      },
      async list(filter = {}) {
        live();
        let all = [...hooks.values()];
        if (filter.runId !== undefined) all = all.filter((hook) => hook.runId === filter.runId);
        else all.reverse();
        if (filter.status !== undefined) all = all.filter((hook) => hook.status === filter.status);
        return all.slice(0, filter.limit ?? all.length).map(copy);
      },
    },

    waits: {
      async list(filter = {}) {
        live();
        let all: WaitRecord[];
        if (filter.runId !== undefined) all = [...stateOf(filter.runId).waits.values()];
        else all = [...waitLog].reverse();
        if (filter.status !== undefined) all = all.filter((wait) => wait.status === filter.status);
        return all.slice(0, filter.limit ?? all.length).map(copy);
      },
    },

    queue: {
      async enqueue(list) {
        live();
        for (const message of list) stateOf(message.runId);
        const at = now();
        for (const message of list)
          enqueue(message.runId, message.kind, message.dedupeKey, message.availableAt ?? at);
        if (list.length > 0) notifier.emit({ type: "queue" });
      },
      async claim(owner, { limit, leaseMs, ...filter }) {
        live();
        const at = now();
        const wanted = queueFilter(filter);
        const due = [...messages.values()]
          // A claimed message comes back when its lease runs out: it was due when it was claimed.
          .filter(
            (message) =>
              (message.lease === undefined ? message.availableAt <= at : message.lease.expiresAt <= at) &&
              wanted(message),
          )
          .sort((a, b) => a.availableAt - b.availableAt || (a.messageId < b.messageId ? -1 : 1))
          .slice(0, limit);
        for (const message of due) {
          message.lease = { owner, expiresAt: at + leaseMs };
          message.deliveries += 1;
        }
        return due.map(copy);
      },
      async ack(owner, ids) {
        live();
        for (const id of ids) {
          const message = messages.get(id);
          if (message && heldBy(message, owner)) messages.delete(id);
        }
      },
      async release(owner, messageId, availableAt) {
        live();
        const message = messages.get(messageId);
        if (!message || !heldBy(message, owner)) return;
        delete message.lease;
        message.availableAt = availableAt ?? now();
        notifier.emit({ type: "queue" });
      },
      async extend(owner, ids, leaseMs) {
        live();
        const at = now();
        const held: string[] = [];
        for (const id of ids) {
          const message = messages.get(id);
          if (message && heldBy(message, owner)) {
            message.lease = { owner, expiresAt: at + leaseMs };
            held.push(id);
          }
        }
        return held;
      },
      async nextAvailableAt(filter = {}) {
        live();
        const wanted = queueFilter(filter);
        let next: number | undefined;
        for (const message of messages.values()) {
          if (!wanted(message)) continue;
          const at = message.lease === undefined ? message.availableAt : message.lease.expiresAt;
          if (next === undefined || at < next) next = at;
        }
        return next;
      },
      async list(runId) {
        live();
        return [...messages.values()].filter((message) => message.runId === runId).map(copy);
      },
    },

    inbox: {
      async put(input, budget = {}) {
        live();
        const state = stateOf(input.runId);
        if (TERMINAL_RUN_STATUSES.has(state.run.status))
          throw new RunFinishedError(input.runId, state.run.status);
        const itemId = input.itemId ?? newId("inbox");
        if (inboxIds.has(itemId)) throw new ConflictError(`An inbox item with id ${itemId} already exists.`);
        const size = input.payload?.length ?? 0;
        checkRunBudget(state.run, size, budget, "A payload for its inbox");
        state.run.payloadBytes += size;
        inboxIds.add(itemId);
        const item: InboxItem = {
          itemId,
          runId: input.runId,
          kind: input.kind,
          createdAt: now(),
        };
        if (input.hookId !== undefined) item.hookId = input.hookId;
        if (input.eventType !== undefined) item.eventType = input.eventType;
        if (input.generation !== undefined) item.generation = input.generation;
        if (input.payload !== undefined) item.payload = own(input.payload);
        state.inbox.set(item.itemId, item);
        enqueue(input.runId, "inbox", undefined, item.createdAt);
        notifier.emit({ type: "queue" });
        notifier.emit({ type: "inbox", runId: input.runId });
        return copy(item);
      },
      async list(runId) {
        live();
        return [...stateOf(runId).inbox.values()].map(copy);
      },
    },

    streams: {
      async write(runId, name, chunks, options = {}) {
        live();
        const state = stateOf(runId);
        let stream = state.streams.get(name);
        if (!stream) {
          stream = { info: { runId, name, length: 0, closed: false }, chunks: [] };
          state.streams.set(name, stream);
        }
        if (stream.info.closed)
          throw new ConflictError(
            `Stream "${name}" of run ${runId} is closed; nothing more can be written to it.`,
          );
        const size = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
        checkRunBudget(state.run, size, options, `A write to stream "${name}"`);
        state.run.payloadBytes += size;
        const at = now();
        for (const data of chunks) {
          stream.chunks.push({ index: stream.chunks.length, data: own(data), createdAt: at });
        }
        stream.info.length = stream.chunks.length;
        if (options.close) stream.info.closed = true;
        notifier.emit({ type: "stream", runId, name });
        return copy(stream.info);
      },
      async read(runId, name, options = {}) {
        live();
        const stream = stateOf(runId).streams.get(name);
        if (!stream) throw new NotFoundError(`Run ${runId} has no stream named "${name}".`);
        const from = Math.max(0, options.from ?? 0);
        const limit = options.limit ?? 1000;
        return { chunks: stream.chunks.slice(from, from + limit).map(copy), info: copy(stream.info) };
      },
      async info(runId, name) {
        live();
        const stream = stateOf(runId).streams.get(name);
        if (!stream) throw new NotFoundError(`Run ${runId} has no stream named "${name}".`);
        return copy(stream.info);
      },
      async list(runId) {
        live();
        return [...stateOf(runId).streams.values()].map((stream) => copy(stream.info));
      },
    },

    audit: {
      async record(input) {
        live();
        const entry = auditEntryOf(input, newAuditId(), now());
        const at = auditLog.findIndex((other) => other.at <= entry.at);
        auditLog.splice(at === -1 ? auditLog.length : at, 0, entry);
        return copyAudit(entry);
      },
      async list(filter = {}) {
        live();
        const page = pageOf(
          auditLog,
          filter,
          (entry) => entry.auditId,
          (entry) => filter.runId === undefined || entry.runIds.includes(filter.runId),
        );
        return { ...page, items: page.items.map(copyAudit) };
      },
    },

    payloads: {
      async rewrite(runId, rewrites) {
        live();
        const state = stateOf(runId);
        checkPayloadRewrites(runId, rewrites);
        return rewritePayloads(state, rewrites, hooks);
      },
    },

    bundles: {
      async put(bundle) {
        live();
        if (bundles.has(bundle.hash)) return;
        bundles.set(bundle.hash, {
          ...bundle,
          workflowIds: [...bundle.workflowIds],
          code: own(bundle.code),
          createdAt: now(),
        });
      },
      async get(hash) {
        live();
        const bundle = bundles.get(hash);
        if (bundle === undefined) throw bundleNotFound(hash);
        return { ...bundle, workflowIds: [...bundle.workflowIds], code: own(bundle.code) };
      },
      async hashes() {
        live();
        return [...bundles.keys()];
      },
      async rewrite(hash, from, to) {
        live();
        const bundle = bundles.get(hash);
        if (bundle === undefined) throw bundleNotFound(hash);
        if (!Buffer.from(bundle.code).equals(Buffer.from(from))) return false;
        bundles.set(hash, { ...bundle, code: own(to) });
        return true;
      },
    },

    notices: {
      async record(key) {
        live();
        if (notices.has(key)) return false;
        notices.add(key);
        return true;
      },
    },

    subscribe: (listener) => notifier.subscribe(listener),

    async close() {
      closed = true;
    },
  };

  /**
   * The body of `events.append` (and of each segment of `runs.import`): checks, then writes. It
   * checks before it writes anything, so a failed append leaves no trace. Notifies nothing.
   */
  function appendNow(request: AppendRequest): AppendResult {
    const state = stateOf(request.runId);
    const { run } = state;
    checkAppend(run, request);
    // Check hook tokens and ids before writing anything, so a conflict leaves no trace.
    checkHookAndWaitIds(run.runId, request.events, {
      hook: (hookId) => hooks.get(hookId),
      tokenHolder: (token) => {
        const hookId = activeTokens.get(token);
        return hookId === undefined ? undefined : (hooks.get(hookId)?.runId ?? "");
      },
      waitExists: (waitId) => state.waits.has(waitId),
    });
    const at = now();
    const stored: EventRecord[] = request.events.map((event, index) => {
      const record = {
        runId: run.runId,
        seq: run.seq + index + 1,
        type: event.type,
        data: asJson(event.data),
        createdAt: event.createdAt ?? at,
      } as EventRecord;
      if (event.payload !== undefined) record.payload = own(event.payload);
      return record;
    });
    for (const event of stored) {
      state.events.push(event);
      for (const effect of projectEvent(event)) {
        switch (effect.kind) {
          case "run.update":
            Object.assign(run, effect.set);
            break;
          case "step.start": {
            const existing = state.steps.get(effect.step.stepId);
            if (existing) Object.assign(existing, effect.set, { updatedAt: event.createdAt });
            else state.steps.set(effect.step.stepId, { ...effect.step });
            break;
          }
          case "step.update": {
            const step = state.steps.get(effect.stepId);
            if (step) Object.assign(step, effect.set, { updatedAt: event.createdAt });
            break;
          }
          case "hook.create":
            hooks.set(effect.hook.hookId, { ...effect.hook });
            activeTokens.set(effect.hook.token, effect.hook.hookId);
            break;
          case "hook.dispose": {
            const hook = hooks.get(effect.hookId);
            if (hook?.runId === run.runId && hook.status === "active") disposeHook(hook, effect.at);
            break;
          }
          case "hooks.disposeAll":
            for (const hook of hooks.values()) {
              if (hook.runId === run.runId && hook.status === "active") disposeHook(hook, effect.at);
            }
            break;
          case "wait.create": {
            const wait = { ...effect.wait };
            state.waits.set(wait.waitId, wait);
            waitLog.push(wait);
            break;
          }
          case "wait.complete": {
            const wait = state.waits.get(effect.waitId);
            if (wait) Object.assign(wait, { status: effect.status, completedAt: effect.at });
            break;
          }
          case "waits.cancelAll":
            for (const wait of state.waits.values()) {
              if (wait.status === "waiting")
                Object.assign(wait, { status: "cancelled", completedAt: effect.at });
            }
            break;
          case "run.restart":
            run.status = "pending";
            delete run.startedAt;
            delete run.completedAt;
            delete run.output;
            delete run.error;
            break;
          case "hook.rearm": {
            // checkHookAndWaitIds made sure the token is free.
            const hook = hooks.get(effect.hookId);
            if (hook?.runId !== run.runId) break;
            hook.status = "active";
            delete hook.disposedAt;
            activeTokens.set(hook.token, hook.hookId);
            break;
          }
          case "wait.rearm": {
            const wait = state.waits.get(effect.waitId);
            if (wait === undefined) break;
            wait.status = "waiting";
            delete wait.completedAt;
            break;
          }
          case "run.version":
            applyRunVersion(run, effect);
            break;
        }
      }
    }
    run.seq += stored.length;
    run.updatedAt = at;
    for (const event of stored) run.payloadBytes += event.payload?.length ?? 0;
    for (const message of request.enqueue ?? []) {
      if (!runs.has(message.runId)) continue;
      enqueue(message.runId, message.kind, message.dedupeKey, message.availableAt ?? at);
    }
    for (const itemId of request.consumeInbox ?? []) {
      const item = state.inbox.get(itemId);
      if (item === undefined) continue;
      run.payloadBytes -= item.payload?.length ?? 0;
      state.inbox.delete(itemId);
      inboxIds.delete(itemId);
    }
    if (request.owner !== undefined) {
      for (const messageId of request.ack ?? []) {
        const message = messages.get(messageId);
        if (message && heldBy(message, request.owner)) messages.delete(messageId);
      }
    }
    const leaseReleased =
      request.releaseLease && request.owner !== undefined
        ? releaseAfterAppend(run, request.owner)
        : undefined;
    const result: AppendResult = { seq: run.seq, events: stored, run: appendedRun(run) };
    if (leaseReleased !== undefined) result.leaseReleased = leaseReleased;
    return result;
  }

  function disposeHook(hook: HookRecord, at: number): void {
    hook.status = "disposed";
    hook.disposedAt = at;
    if (activeTokens.get(hook.token) === hook.hookId) activeTokens.delete(hook.token);
  }

  return world;
}
