/**
 * `Client`: the one client core every door into the engine goes through — `stepwise-workflows/api`
 * (the process's client), `stepwise-workflows/http` (`createHandler({ client })`), the CLI and the
 * test environment. It holds a World, a payload codec and limits (`ClientContext`), and every write
 * it makes — starting runs, hook and webhook payloads, events, cancel, pause, resume, restart,
 * upgrade — goes through the same functions, each value becoming stored bytes in `store.ts`. A
 * program may hold several clients, each on its own World (`createClient`).
 */
import { type Limits, limitsFromEnv } from "../runtime/limits.ts";
import { resolveWorkflowId } from "../runtime/registry.ts";
import { createPayloadCodec, type PayloadCodec } from "../serde/payload.ts";
import type { World } from "../world/types.ts";
import type { ClientContext } from "./context.ts";
import { cancelRun, type PauseOptions, pauseRun, resumeRun } from "./control.ts";
import { type SentEvent, sendEventIn } from "./events.ts";
import { type HookInfo, hookByToken, resumeHookIn } from "./hooks.ts";
import { type RestartedRun, type RestartOptions, restartRun } from "./restart.ts";
import { Run } from "./run.ts";
import {
  type RunToStart,
  type StartArguments,
  type StartableWorkflow,
  type StartedRun,
  type StartManyItem,
  type StartOptions,
  startItem,
  startManyItems,
  startRuns,
} from "./start.ts";
import type { SealContext } from "./store.ts";
import { type UpgradeResult, type UpgradeRunOptions, upgradeRunIn } from "./upgrade.ts";
import { DEFAULT_WEBHOOK_TIMEOUT_MS, resumeWebhookIn } from "./webhooks.ts";
import { resolveWorkflowName } from "./workflow-name.ts";

/** A client of one World: see the file header. */
export class Client {
  readonly #context: ClientContext;

  /** A client over `context` (`createClient` makes one from plain values). @internal */
  constructor(context: ClientContext) {
    this.#context = context;
  }

  /** The client's World. */
  world(): Promise<World> {
    return this.#context.world();
  }

  /** The client's payload codec (its encryption keys). */
  payloadCodec(): PayloadCodec {
    return this.#context.payloads();
  }

  /** The client's payload size limits. */
  limits(): Limits {
    return this.#context.limits();
  }

  #seal(): SealContext {
    return { payloads: this.#context.payloads(), limits: this.#context.limits() };
  }

  /**
   * Starts a run of `workflow` with `args` and returns its handle at once; the run executes in a
   * worker sharing the World (the process's client: its in-process worker too, unless it is off).
   * `args` is an array of the workflow's arguments; a workflow without required parameters starts
   * with `start(workflow)`. With `{ id }` the run gets that id, and starting again with the same id
   * and workflow returns the existing run instead of starting another (idempotent).
   * `workflow` may also be a name: a full id (`workflow//app.workflows.report//report`) or the
   * plain function or class name (`"report"`), found among the workflows the deployment knows
   * (`workflow-name.ts`) — a workflow this process has no code for, a Python one, starts that
   * way, unpinned (the worker that starts it pins it). Keyword arguments of a Python workflow
   * travel as one trailing plain object: `start("report", [{ topic: "x" }])`.
   * Errors: `WorkflowNotRegisteredError` when `workflow` is not a registered workflow,
   * `WorkflowNotFoundError` / `AmbiguousWorkflowNameError` (both `WorkflowNotRegisteredError`s)
   * when a name matches no known workflow / several,
   * `InvalidRunIdError` for an id that is not 1 to 100 characters of `[A-Za-z0-9_.:-]`,
   * `RunIdConflictError` (a `ConflictError`) when the id is held by a run of another workflow,
   * `SerializationError` when the arguments cannot be stored, `PayloadTooLargeError` when they are
   * over the per-payload limit. None writes anything.
   */
  start<Args extends unknown[], Result>(
    workflow: StartableWorkflow<Args, Result>,
    ...rest: StartArguments<Args>
  ): Promise<Run<Result>>;
  start<Result = unknown>(
    workflow: string,
    args?: readonly unknown[],
    options?: StartOptions,
  ): Promise<Run<Result>>;
  async start(workflow: unknown, ...rest: unknown[]): Promise<Run<unknown>> {
    const workflowId = await this.#workflowId(workflow);
    const [started] = await this.startRuns(workflowId, [startItem(workflowId, rest)]);
    return (started as StartedRun).run;
  }

  /**
   * Starts one run of `workflow` per item, in ONE transaction, and returns their handles in the
   * same order: `startMany(order, [{ args: ["o-1"], id: "order-1" }, { args: ["o-2"] }])`. Each
   * item follows `start()`'s rules (an id already held by a run of this workflow returns that
   * run), and the batch is all or nothing: when any item is refused, no run is started. At most
   * `MAX_START_BATCH` (1000) items, whose arguments together fit in one payload (50 MB by
   * default); split longer lists. `workflow` may be a name, as for `start()`. Errors: those of
   * `start()`, naming the item, and `BatchTooLargeError`.
   */
  startMany<Args extends unknown[], Result>(
    workflow: StartableWorkflow<Args, Result>,
    items: readonly StartManyItem<Args>[],
  ): Promise<Run<Result>[]>;
  startMany<Result = unknown>(
    workflow: string,
    items: readonly { args?: readonly unknown[]; id?: string }[],
  ): Promise<Run<Result>[]>;
  async startMany(workflow: unknown, items: unknown): Promise<Run<unknown>[]> {
    const workflowId = await this.#workflowId(workflow);
    const started = await this.startRuns(workflowId, startManyItems(workflowId, items));
    return started.map(({ run }) => run);
  }

  /** The full id of what `start()` was given: a workflow (or its reference), or a name. */
  #workflowId(workflow: unknown): Promise<string> | string {
    if (typeof workflow === "string") return resolveWorkflowName(this.#context, workflow);
    return resolveWorkflowId(workflow, this.#context.clientOnly());
  }

  /**
   * The full workflow id `name` means (a full id as it is, or a plain name found among the
   * workflows the deployment knows; see `start()`): `POST /runs` and `npx stepwise start` resolve
   * names with it. `WorkflowNotFoundError`, `AmbiguousWorkflowNameError`.
   */
  resolveWorkflowName(name: string): Promise<string> {
    return resolveWorkflowName(this.#context, name);
  }

  /**
   * Starts runs of the workflow `workflowId` (already resolved: `POST /runs`, `npx stepwise
   * start`), saying of each whether it was created or found (see `start.ts`). @internal
   */
  startRuns(workflowId: string, items: readonly RunToStart[]): Promise<StartedRun[]> {
    return startRuns(this.#context, (runId) => new Run(runId, this), workflowId, items);
  }

  /** A handle on an existing run. Reading from it fails with `RunNotFoundError` if there is none. */
  getRun<Result = unknown>(runId: string): Run<Result> {
    void this.#context.used();
    return new Run<Result>(runId, this);
  }

  /** The active hook listening on `token`. `HookNotFoundError` if none. */
  async getHookByToken(token: string): Promise<HookInfo> {
    return hookByToken(await this.#context.world(), token);
  }

  /**
   * Sends `payload` to the hook listening on `token`; the waiting workflow receives it. Once this
   * resolves, the payload is stored and will be delivered. Errors: `HookNotFoundError` for an
   * unknown token, `SerializationError` for a payload that cannot be stored,
   * `PayloadTooLargeError` for one over the per-payload limit or one that would take the run past
   * its total (`STEPWISE_MAX_RUN_BYTES`), `RunFinishedError` when the run has ended, `ConfigError`
   * when the run is encrypted and this client has no key. None writes anything.
   */
  async resumeHook(token: string, payload: unknown): Promise<HookInfo> {
    const info = await resumeHookIn(await this.#context.world(), this.#seal(), token, payload);
    await this.#context.used();
    return info;
  }

  /**
   * Delivers `request` to the workflow waiting on the webhook with `token` and returns the HTTP
   * response to send: 202, the webhook's static response, or (manual mode) the workflow's own
   * within `timeoutMs` (default 30 s, then 504). `HookNotFoundError` for an unknown token, or one
   * that belongs to a plain hook (those are not reachable over HTTP); `PayloadTooLargeError` for a
   * body over the payload limit. Neither writes anything.
   */
  resumeWebhook(token: string, request: Request, options: { timeoutMs?: number } = {}): Promise<Response> {
    return resumeWebhookIn(this.#context, token, request, {
      timeoutMs: options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
    });
  }

  /**
   * Sends an event of `type` with `payload` to the run `runId`. Once this resolves the event is
   * stored; the run's first `waitForEvent(type)` that has not received one takes it (now, or when
   * the workflow gets there). Errors, none of which writes anything: `InvalidEventTypeError` for a
   * type that is not 1 to 100 letters, digits and `_ . : -`; `RunNotFoundError` for an unknown
   * run; `RunFinishedError` when the run has ended; `EventPayloadValidationError` when the payload
   * fails the schema `defineEvent(type, { schema })` declared in this process;
   * `SerializationError` for a payload that cannot be stored; `PayloadTooLargeError` for one over
   * the per-payload limit or one that would take the run past its total; `ConfigError` when the
   * run is encrypted and this client has no key.
   */
  async sendEvent(runId: string, type: string, payload: unknown): Promise<SentEvent> {
    const sent = await sendEventIn(await this.#context.world(), this.#seal(), runId, type, payload);
    await this.#context.used();
    return sent;
  }

  /** Cancels the run `runId` (see `Run.cancel`). */
  async cancelRun(runId: string): Promise<void> {
    return cancelRun(await this.#context.world(), runId);
  }

  /** Pauses the run `runId` (see `Run.pause`). */
  async pauseRun(runId: string, options: PauseOptions = {}): Promise<void> {
    return pauseRun(await this.#context.world(), runId, options);
  }

  /** Resumes the paused run `runId` (see `Run.resume`). */
  async resumeRun(runId: string): Promise<void> {
    return resumeRun(await this.#context.world(), runId);
  }

  /** Restarts the run `runId` (see `Run.restart`). */
  restartRun(runId: string, options: RestartOptions = {}): Promise<RestartedRun> {
    return restartRun(this.#context, runId, options);
  }

  /**
   * Moves the run to the version of its workflow this process has registered if its log replays
   * against it, and says what happened (`verdict`: `upgraded`, or why not — `diverged` with the
   * `divergence`, `current`, `ended`, `busy`, `not-loaded`, `not-found`, …) — what `npx stepwise
   * upgrade <runId>` does. Never throws for what the run is; only for a World that fails.
   */
  upgradeRun(runId: string, options: UpgradeRunOptions = {}): Promise<UpgradeResult> {
    return upgradeRunIn(this.#context, runId, options);
  }
}

/** What `createClient` takes. */
export interface ClientOptions {
  /** The World the client writes to and reads from (the caller closes it). */
  world: World;
  /** The payload codec; default one with the environment's keys (`STEPWISE_ENCRYPTION_KEY`). */
  payloads?: PayloadCodec;
  /** Payload size limits; default `STEPWISE_MAX_PAYLOAD_BYTES` / `STEPWISE_MAX_RUN_BYTES`. */
  limits?: Limits;
  /**
   * The workflows live workers registered with the deployment's server, when the World does not
   * tell them (`World.workers`): `npx stepwise server` passes its registry, so its run API finds
   * a Python workflow by its plain name. Default: the World's, or none.
   */
  liveWorkflows?: () => Promise<readonly string[]>;
}

/**
 * A client of `options.world`, apart from the process's: it executes nothing (no in-process
 * worker; workers sharing the World run what it starts, so it may start workflows it has not
 * loaded, by reference). `ConfigError` when the environment's encryption keys are malformed.
 */
export function createClient(options: ClientOptions): Client {
  const world = Promise.resolve(options.world);
  const payloads = options.payloads ?? createPayloadCodec();
  const limits = options.limits ?? limitsFromEnv();
  return new Client({
    world: () => world,
    payloads: () => payloads,
    limits: () => limits,
    used: async () => {},
    clientOnly: () => true,
    ...(options.liveWorkflows === undefined ? {} : { liveWorkflows: options.liveWorkflows }),
  });
}
