/**
 * What each operation of the worker protocol does on the server: a call of the World's (with the
 * wire's shapes turned into the World's and back), and, for task leases and stream tails, a long
 * poll (`waiters.ts`). The table is checked against `protocol/operations.ts` by the type system:
 * every operation has exactly one implementation.
 */
import { MAX_WAIT_MS, type operations, type RequestOf, type ResponseOf } from "../protocol/operations.ts";
import type { NewEvent } from "../world/events.ts";
import { pickUpRun } from "../world/pick-up.ts";
import type { AppendRequest, ClaimOptions, CreateRunInput, PayloadRewrite, World } from "../world/types.ts";
import type { Waiters } from "./waiters.ts";
import { registeredVersions, type WorkerRegistry } from "./workers.ts";

type Operations = typeof operations;

/** What an operation's code receives besides its body. */
export interface OperationContext {
  world: World;
  waiters: Waiters;
  workers: WorkerRegistry;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
}

type Implementations = {
  [K in keyof Operations]: (
    body: RequestOf<Operations[K]>,
    context: OperationContext,
  ) => Promise<ResponseOf<Operations[K]>>;
};

/** Drops `undefined` fields, so the World sees absent fields as absent. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

/** Claims, and when nothing was claimed and `waitMs` allows, waits for the queue to change and claims again. */
async function claimWaiting(
  context: OperationContext,
  owner: string,
  options: ClaimOptions,
  waitMs: number | undefined,
): Promise<ResponseOf<Operations["queueClaim"]>> {
  const { world, waiters, signal } = context;
  const deadline = Date.now() + Math.min(waitMs ?? 0, MAX_WAIT_MS);
  const filter = defined({
    workflows: options.workflows,
    runIds: options.runIds,
    versions: options.versions,
  });
  for (;;) {
    const listening = waiters.listen((n) => n.type === "queue", signal);
    try {
      const messages = await world.queue.claim(owner, options);
      if (messages.length > 0 || Date.now() >= deadline || signal.aborted || waiters.closed)
        return { messages };
      const next = await world.queue.nextAvailableAt(filter);
      await listening.wait(Math.min(deadline, next ?? deadline));
    } finally {
      listening.cancel();
    }
  }
}

export const implementations: Implementations = {
  // createMany of one is create, and it says whether it wrote: the caller tells its listeners only then.
  runsCreate: async ({ run }, { world }) => {
    const [result] = await world.runs.createMany([defined(run) as CreateRunInput]);
    if (result === undefined) throw new Error("runs.createMany of one run answered nothing");
    return result;
  },
  runsCreateMany: async ({ runs }, { world }) => ({
    results: await world.runs.createMany(runs.map((run) => defined(run) as CreateRunInput)),
  }),
  runsGet: async ({ runId }, { world }) => ({ run: await world.runs.get(runId) }),
  runsList: async ({ filter }, { world }) => world.runs.list(filter === undefined ? {} : defined(filter)),
  runsWorkflowNames: async (_body, { world }) => ({ names: await world.runs.workflowNames() }),
  runsAcquire: async ({ runId, owner, leaseMs }, { world }) => world.runs.acquire(runId, owner, leaseMs),
  runsPickUp: async ({ runId, owner, leaseMs, knownSeq }, { world }) =>
    pickUpRun(world, runId, owner, leaseMs, knownSeq),
  runsRenew: async ({ owner, runIds, leaseMs }, { world }) => ({
    runIds: await world.runs.renew(owner, runIds, leaseMs),
  }),
  runsRelease: async ({ runId, owner }, { world }) => ({ released: await world.runs.release(runId, owner) }),
  runsImport: async ({ run }, { world }) => world.runs.import(run as Parameters<World["runs"]["import"]>[0]),
  eventsAppend: async ({ returnEvents, ...body }, { world }) => {
    const request = defined({ ...body, events: body.events.map((event) => defined(event) as NewEvent) });
    const result = await world.events.append(request as AppendRequest);
    // A worker that keeps its own copy (the Python one) saves encoding and decoding them again.
    return returnEvents === false ? { ...result, events: [] } : result;
  },
  eventsList: async ({ runId, afterSeq, limit }, { world }) => ({
    events: await world.events.list(runId, defined({ afterSeq, limit })),
  }),
  stepsList: async ({ runId }, { world }) => ({ steps: await world.steps.list(runId) }),
  stepsGet: async ({ runId, stepId }, { world }) => ({ step: await world.steps.get(runId, stepId) }),
  hooksGetByToken: async ({ token }, { world }) => ({ hook: await world.hooks.getByToken(token) }),
  hooksGet: async ({ hookId }, { world }) => ({ hook: await world.hooks.get(hookId) }),
  hooksList: async (filter, { world }) => ({ hooks: await world.hooks.list(defined(filter)) }),
  waitsList: async (filter, { world }) => ({ waits: await world.waits.list(defined(filter)) }),
  queueEnqueue: async ({ messages }, { world }) => {
    await world.queue.enqueue(messages.map((message) => defined(message)));
    return {};
  },
  queueClaim: async ({ owner, waitMs, ...options }, context) =>
    claimWaiting(context, owner, defined(options) as ClaimOptions, waitMs),
  queueAck: async ({ owner, messageIds }, { world }) => {
    await world.queue.ack(owner, messageIds);
    return {};
  },
  queueRelease: async ({ owner, messageId, availableAt }, { world }) => {
    await world.queue.release(owner, messageId, availableAt);
    return {};
  },
  queueExtend: async ({ owner, messageIds, leaseMs }, { world }) => ({
    messageIds: await world.queue.extend(owner, messageIds, leaseMs),
  }),
  queueNextAvailable: async (filter, { world }) =>
    defined({ at: await world.queue.nextAvailableAt(defined(filter)) }),
  queueList: async ({ runId }, { world }) => ({ messages: await world.queue.list(runId) }),
  inboxPut: async ({ item, maxRunBytes }, { world }) => ({
    item: await world.inbox.put(defined(item), maxRunBytes === undefined ? undefined : { maxRunBytes }),
  }),
  inboxList: async ({ runId }, { world }) => ({ items: await world.inbox.list(runId) }),
  streamsWrite: async ({ runId, name, chunks, close, maxRunBytes }, { world }) => ({
    info: await world.streams.write(runId, name, chunks, defined({ close, maxRunBytes })),
  }),
  streamsRead: async ({ runId, name, from, limit, waitMs }, { world, waiters, signal }) => {
    const deadline = Date.now() + Math.min(waitMs ?? 0, MAX_WAIT_MS);
    for (;;) {
      const listening = waiters.listen(
        (n) => n.type === "stream" && n.runId === runId && n.name === name,
        signal,
      );
      try {
        const read = await world.streams.read(runId, name, defined({ from, limit }));
        if (read.chunks.length > 0 || read.info.closed || Date.now() >= deadline || signal.aborted)
          return read;
        await listening.wait(deadline);
      } finally {
        listening.cancel();
      }
    }
  },
  streamsInfo: async ({ runId, name }, { world }) => ({ info: await world.streams.info(runId, name) }),
  streamsList: async ({ runId }, { world }) => ({ streams: await world.streams.list(runId) }),
  payloadsRewrite: async ({ runId, rewrites }, { world }) =>
    world.payloads.rewrite(
      runId,
      rewrites.map((rewrite) => ({ ...rewrite, slot: defined(rewrite.slot) }) as PayloadRewrite),
    ),
  bundlesPut: async ({ bundle }, { world }) => {
    await world.bundles.put(bundle);
    return {};
  },
  bundlesGet: async ({ hash }, { world }) => ({ bundle: await world.bundles.get(hash) }),
  bundlesHashes: async (_body, { world }) => ({ hashes: await world.bundles.hashes() }),
  bundlesRewrite: async ({ hash, from, to }, { world }) => ({
    rewritten: await world.bundles.rewrite(hash, from, to),
  }),
  noticesRecord: async ({ key }, { world }) => ({ recorded: await world.notices.record(key) }),
  auditRecord: async ({ entry }, { world }) => ({ entry: await world.audit.record(defined(entry)) }),
  auditList: async (filter, { world }) => world.audit.list(defined(filter)),
  workersRegister: async (registration, { workers }) => ({ worker: workers.register(defined(registration)) }),
  workersList: async (_body, { workers }) => ({ workers: workers.list() }),
  workflowsList: async (_body, { workers }) => ({ workflows: workers.workflows() }),
  tasksLease: async ({ workerId, limit, leaseMs, runIds, waitMs }, context) => {
    const worker = context.workers.touch(workerId);
    const options: ClaimOptions = { limit, leaseMs, workflows: worker.workflows.map((w) => w.name) };
    if (runIds !== undefined) options.runIds = runIds;
    const versions = registeredVersions(worker);
    if (versions !== undefined) options.versions = versions;
    return claimWaiting(context, workerId, options, waitMs);
  },
};
