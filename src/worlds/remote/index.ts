/**
 * The remote World: a World over the worker protocol of a Stepwise server (`STEPWISE_WORLD=
 * http://host:port`, docs/protocol.md). Every operation is one request to the server, which runs
 * it on its own World (SQLite, PostgreSQL, …) with the same semantics and errors, so this World
 * passes the same conformance suite and a worker needs only the server's URL and secret — no
 * database credentials. Change hints come from the server's notification stream; the hints of
 * this World's own writes are given here while the stream is not live yet (`own-hints.ts`).
 */
import { hostname } from "node:os";
import { ConfigError } from "../../errors/runtime.ts";
import { ConflictError } from "../../errors/world.ts";
import { ProtocolError } from "../../protocol/errors.ts";
import { type Operation, operations, PROTOCOL_VERSION, type RequestOf } from "../../protocol/operations.ts";
import { createNotifier } from "../../world/notify.ts";
import type { RunRecord, World, WorldNotification } from "../../world/types.ts";
import { createNotificationFeed } from "./notifications.ts";
import { OwnHints } from "./own-hints.ts";
import { createTransport } from "./transport.ts";

export interface RemoteWorldOptions {
  /** The server: `http://host:port`, or with the base path its API is mounted under (default `/stepwise`). */
  url: string;
  /** The server's bearer secret; default STEPWISE_HTTP_SECRET. */
  secret?: string;
}

/** `http://host:port` → `http://host:port/stepwise/protocol/v1`; a path given is the base path. */
export function protocolBase(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      `STEPWISE_WORLD=${url} is not a URL. Give the server's address, e.g. http://127.0.0.1:3000.`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigError(`STEPWISE_WORLD=${url}: a Stepwise server is reached over http: or https:.`);
  }
  const path = parsed.pathname.replace(/\/+$/, "");
  return `${parsed.origin}${path === "" ? "/stepwise" : path}/protocol/${PROTOCOL_VERSION}`;
}

/** Opens a World over the Stepwise server at `options.url` (nothing is sent until the first call). */
export function createRemoteWorld(options: RemoteWorldOptions): World {
  const secret = options.secret ?? process.env.STEPWISE_HTTP_SECRET;
  if (secret === undefined || secret === "") {
    throw new ConfigError(
      `STEPWISE_WORLD=${options.url} needs the server's secret: set STEPWISE_HTTP_SECRET to the value the server was started with.`,
    );
  }
  const where = new URL(options.url).origin;
  const transport = createTransport(protocolBase(options.url), secret, where);
  const notifier = createNotifier();
  const hints = new OwnHints(notifier);
  const feed = createNotificationFeed(
    `${transport.base}/notifications`,
    transport.headers,
    (n) => hints.fromServer(n),
    (ready) => hints.setReady(ready),
  );
  let closed = false;
  /** What `workers.announce` last registered, and under which worker id. */
  let announced: { workerId: string; names: string[] } | undefined;
  const pending = new Set<Promise<unknown>>();

  /** Calls the operation, unless the World is closed; tracks it so `close` waits for it. */
  function call<Req, Res>(operation: Operation<Req, Res>, body: Req): Promise<Res> {
    if (closed) return Promise.reject(new ConflictError("This World has been closed."));
    const promise = transport.call(operation, body);
    pending.add(promise);
    const done = () => pending.delete(promise);
    promise.then(done, done);
    return promise;
  }
  const runHint = (run: Pick<RunRecord, "runId" | "status">): WorldNotification => ({
    type: "run",
    runId: run.runId,
    status: run.status,
  });

  const world: World = {
    name: "remote",
    runs: {
      async create(input) {
        const mark = hints.mark();
        const { run, created } = await call(operations.runsCreate, { run: input });
        if (created) hints.own(mark, runHint(run), { type: "queue" });
        return run;
      },
      async createMany(inputs) {
        const mark = hints.mark();
        const { results } = await call(operations.runsCreateMany, { runs: [...inputs] });
        if (results.some((r) => r.created))
          hints.own(mark, { type: "queue" }, ...results.filter((r) => r.created).map((r) => runHint(r.run)));
        return results;
      },
      async get(runId) {
        return (await call(operations.runsGet, { runId })).run;
      },
      async list(filter = {}) {
        const wire: {
          status?: RunRecord["status"][];
          workflowName?: string[];
          createdSince?: number;
          createdBefore?: number;
          limit?: number;
          cursor?: string;
        } = {};
        if (filter.status !== undefined)
          wire.status = typeof filter.status === "string" ? [filter.status] : [...filter.status];
        if (filter.workflowName !== undefined) {
          wire.workflowName =
            typeof filter.workflowName === "string" ? [filter.workflowName] : [...filter.workflowName];
        }
        if (filter.createdSince !== undefined) wire.createdSince = filter.createdSince;
        if (filter.createdBefore !== undefined) wire.createdBefore = filter.createdBefore;
        if (filter.limit !== undefined) wire.limit = filter.limit;
        if (filter.cursor !== undefined) wire.cursor = filter.cursor;
        return call(operations.runsList, { filter: wire });
      },
      async workflowNames() {
        return (await call(operations.runsWorkflowNames, {})).names;
      },
      async acquire(runId, owner, leaseMs) {
        const mark = hints.mark();
        const result = await call(operations.runsAcquire, { runId, owner, leaseMs });
        if (!result.acquired) hints.own(mark, { type: "inbox", runId });
        return result as Awaited<ReturnType<World["runs"]["acquire"]>>;
      },
      async pickUp(runId, owner, leaseMs, knownSeq) {
        const mark = hints.mark();
        const body = knownSeq === undefined ? { runId, owner, leaseMs } : { runId, owner, leaseMs, knownSeq };
        const result = await call(operations.runsPickUp, body);
        if (!result.acquired) hints.own(mark, { type: "inbox", runId });
        return result as Awaited<ReturnType<NonNullable<World["runs"]["pickUp"]>>>;
      },
      async renew(owner, runIds, leaseMs) {
        return (await call(operations.runsRenew, { owner, runIds: [...runIds], leaseMs })).runIds;
      },
      async release(runId, owner) {
        return (await call(operations.runsRelease, { runId, owner })).released;
      },
      async import(input) {
        const mark = hints.mark();
        const result = await call(operations.runsImport, {
          // The wire's events carry `data` as any JSON object: the World's types are narrower.
          run: input as unknown as RequestOf<typeof operations.runsImport>["run"],
        });
        if (result.imported) hints.own(mark, runHint(result.run), { type: "queue" });
        return result;
      },
    },
    events: {
      async append(request) {
        const mark = hints.mark();
        const { enqueue, consumeInbox, ack, ...rest } = request;
        const result = await call(operations.eventsAppend, {
          ...rest,
          events: request.events.map((event) => ({ ...event, data: event.data as Record<string, unknown> })),
          ...(enqueue === undefined ? {} : { enqueue: [...enqueue] }),
          ...(consumeInbox === undefined ? {} : { consumeInbox: [...consumeInbox] }),
          ...(ack === undefined ? {} : { ack: [...ack] }),
        });
        hints.own(mark, runHint(result.run));
        if ((request.enqueue?.length ?? 0) > 0) hints.own(mark, { type: "queue" });
        return result as Awaited<ReturnType<World["events"]["append"]>>;
      },
      async list(runId, options = {}) {
        return (await call(operations.eventsList, { runId, ...options })).events as Awaited<
          ReturnType<World["events"]["list"]>
        >;
      },
    },
    steps: {
      async list(runId) {
        return (await call(operations.stepsList, { runId })).steps;
      },
      async get(runId, stepId) {
        return (await call(operations.stepsGet, { runId, stepId })).step;
      },
    },
    hooks: {
      async getByToken(token) {
        return (await call(operations.hooksGetByToken, { token })).hook;
      },
      async get(hookId) {
        return (await call(operations.hooksGet, { hookId })).hook;
      },
      async list(filter = {}) {
        return (await call(operations.hooksList, filter)).hooks;
      },
    },
    waits: {
      async list(filter = {}) {
        return (await call(operations.waitsList, filter)).waits;
      },
    },
    queue: {
      async enqueue(messages) {
        const mark = hints.mark();
        await call(operations.queueEnqueue, { messages: [...messages] });
        hints.own(mark, { type: "queue" });
      },
      async claim(owner, options) {
        const body: RequestOf<typeof operations.queueClaim> = {
          owner,
          limit: options.limit,
          leaseMs: options.leaseMs,
        };
        if (options.workflows !== undefined) body.workflows = [...options.workflows];
        if (options.runIds !== undefined) body.runIds = [...options.runIds];
        if (options.versions !== undefined) body.versions = [...options.versions];
        return (await call(operations.queueClaim, body)).messages;
      },
      async ack(owner, messageIds) {
        await call(operations.queueAck, { owner, messageIds: [...messageIds] });
      },
      async release(owner, messageId, availableAt) {
        const mark = hints.mark();
        await call(operations.queueRelease, {
          owner,
          messageId,
          ...(availableAt === undefined ? {} : { availableAt }),
        });
        hints.own(mark, { type: "queue" });
      },
      async extend(owner, messageIds, leaseMs) {
        return (await call(operations.queueExtend, { owner, messageIds: [...messageIds], leaseMs }))
          .messageIds;
      },
      async nextAvailableAt(filter = {}) {
        const body: RequestOf<typeof operations.queueNextAvailable> = {};
        if (filter.workflows !== undefined) body.workflows = [...filter.workflows];
        if (filter.runIds !== undefined) body.runIds = [...filter.runIds];
        if (filter.versions !== undefined) body.versions = [...filter.versions];
        return (await call(operations.queueNextAvailable, body)).at;
      },
      async list(runId) {
        return (await call(operations.queueList, { runId })).messages;
      },
    },
    inbox: {
      async put(item, budget) {
        const mark = hints.mark();
        const { item: stored } = await call(operations.inboxPut, {
          item,
          ...(budget?.maxRunBytes === undefined ? {} : { maxRunBytes: budget.maxRunBytes }),
        });
        hints.own(mark, { type: "inbox", runId: item.runId }, { type: "queue" });
        return stored;
      },
      async list(runId) {
        return (await call(operations.inboxList, { runId })).items;
      },
    },
    streams: {
      async write(runId, name, chunks, options = {}) {
        const mark = hints.mark();
        const { info } = await call(operations.streamsWrite, {
          runId,
          name,
          chunks: [...chunks],
          ...options,
        });
        hints.own(mark, { type: "stream", runId, name });
        return info;
      },
      async read(runId, name, options = {}) {
        return call(operations.streamsRead, { runId, name, ...options });
      },
      async info(runId, name) {
        return (await call(operations.streamsInfo, { runId, name })).info;
      },
      async list(runId) {
        return (await call(operations.streamsList, { runId })).streams;
      },
    },
    payloads: {
      async rewrite(runId, rewrites) {
        return call(operations.payloadsRewrite, {
          runId,
          // A slot on the wire is one object with the fields of every kind.
          rewrites: rewrites as RequestOf<typeof operations.payloadsRewrite>["rewrites"],
        });
      },
    },
    bundles: {
      async put(bundle) {
        await call(operations.bundlesPut, { bundle: { ...bundle, workflowIds: [...bundle.workflowIds] } });
      },
      async get(hash) {
        return (await call(operations.bundlesGet, { hash })).bundle;
      },
      async hashes() {
        return (await call(operations.bundlesHashes, {})).hashes;
      },
      async rewrite(hash, from, to) {
        return (await call(operations.bundlesRewrite, { hash, from, to })).rewritten;
      },
    },
    notices: {
      async record(key) {
        return (await call(operations.noticesRecord, { key })).recorded;
      },
    },
    audit: {
      async record(entry) {
        return (await call(operations.auditRecord, { entry: { ...entry, runIds: [...entry.runIds] } })).entry;
      },
      async list(filter = {}) {
        return call(operations.auditList, filter);
      },
    },
    workers: {
      async workflows() {
        return (await call(operations.workflowsList, {})).workflows;
      },
      async announce(workflows) {
        const names = [...workflows].sort();
        const same = announced !== undefined && announced.names.join("\n") === names.join("\n");
        if (same && announced !== undefined) {
          try {
            // A lease of nothing refreshes the registration.
            await call(operations.tasksLease, { workerId: announced.workerId, limit: 0, leaseMs: 1 });
            return;
          } catch (error) {
            // The server restarted or forgot us: register again below.
            if (!(error instanceof ProtocolError && error.protocolCode === "WORKER_NOT_FOUND")) throw error;
          }
        }
        const { worker } = await call(operations.workersRegister, {
          language: "typescript",
          label: `typescript ${hostname()} pid ${process.pid}`,
          workflows: names.map((name) => ({ name })),
        });
        announced = { workerId: worker.workerId, names };
      },
    },
    subscribe(listener) {
      const unsubscribe = notifier.subscribe(listener);
      if (!closed) feed.start();
      return () => {
        unsubscribe();
        if (notifier.size === 0) feed.stop();
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      feed.stop();
      await Promise.allSettled([...pending]);
      transport.close();
    },
  };
  return world;
}
