/**
 * `stepwise-workflows/api`: what application code uses to start runs, look at them, control them,
 * send them events, and resume their hooks. Each function is the process's client's
 * (`process/process.ts`: the World from the environment or `configure`, and the in-process
 * worker); the client core itself is `client/`. `createClient` makes a client of another World.
 */

import type { SentEvent } from "../client/events.ts";
import type { HookInfo } from "../client/hooks.ts";
import type { Run } from "../client/run.ts";
import type { StartArguments, StartableWorkflow, StartManyItem, StartOptions } from "../client/start.ts";
import type { UpgradeResult, UpgradeRunOptions } from "../client/upgrade.ts";
import { processClient } from "../process/process.ts";
import { registeredWorkflowIds } from "../runtime/registry.ts";

export { Client, type ClientOptions, createClient } from "../client/client.ts";
export type { PauseOptions } from "../client/control.ts";
export type { SentEvent } from "../client/events.ts";
export type { HookInfo } from "../client/hooks.ts";
export type { RestartedRun, RestartOptions } from "../client/restart.ts";
export { Run, type WorkflowRunStatus } from "../client/run.ts";
export {
  MAX_START_BATCH,
  type StartArguments,
  type StartableWorkflow,
  type StartManyItem,
  type StartOptions,
} from "../client/start.ts";
export type { UpgradeResult, UpgradeRunOptions, UpgradeVerdict } from "../client/upgrade.ts";
export { DEFAULT_WEBHOOK_TIMEOUT_MS } from "../client/webhooks.ts";
export { type ConfigureOptions, configure, getWorld, processClient, shutdown } from "../process/process.ts";

/**
 * Starts a run of `workflow` with `args` and returns its handle at once; the run executes in the
 * in-process worker (unless it is off: STEPWISE_WORKER=0) or in any worker sharing the World.
 * `args` is an array of the workflow's arguments; a workflow without required parameters starts
 * with `start(workflow)`. With `{ id }` the run gets that id, and starting again with the same id
 * and workflow returns the existing run instead of starting another (idempotent).
 * `workflow` may also be a name — a full id (`workflow//app.workflows.report//report`) or the
 * plain function or class name (`start("report", [{ topic: "x" }])`) — found among the
 * workflows registered here, those live workers registered with the server, and those with
 * stored runs: that is how a workflow this process has no code for (a Python one) is started.
 * Keyword arguments of a Python workflow travel as one trailing plain object.
 * Errors: `WorkflowNotRegisteredError` when `workflow` is not a registered workflow,
 * `WorkflowNotFoundError` / `AmbiguousWorkflowNameError` (both `WorkflowNotRegisteredError`s)
 * when a name matches no known workflow / several,
 * `InvalidRunIdError` for an id that is not 1 to 100 characters of `[A-Za-z0-9_.:-]`,
 * `RunIdConflictError` (a `ConflictError`) when the id is held by a run of another workflow,
 * `SerializationError` when the arguments cannot be stored, `PayloadTooLargeError` when they are
 * over the per-payload limit. None writes anything.
 */
export function start<Args extends unknown[], Result>(
  workflow: StartableWorkflow<Args, Result>,
  ...rest: StartArguments<Args>
): Promise<Run<Result>>;
export function start<Result = unknown>(
  workflow: string,
  args?: readonly unknown[],
  options?: StartOptions,
): Promise<Run<Result>>;
export function start(workflow: unknown, ...rest: unknown[]): Promise<Run<unknown>> {
  return (processClient().start as (workflow: unknown, ...rest: unknown[]) => Promise<Run<unknown>>)(
    workflow,
    ...rest,
  );
}

/**
 * Starts one run of `workflow` per item, in ONE transaction, and returns their handles in the same
 * order: `startMany(order, [{ args: ["o-1"], id: "order-1" }, { args: ["o-2"] }])`. Each item
 * follows `start()`'s rules (an id already held by a run of this workflow returns that run), and
 * the batch is all or nothing: when any item is refused, no run is started. At most
 * `MAX_START_BATCH` (1000) items, whose arguments together fit in one payload (50 MB by default);
 * split longer lists. `workflow` may be a name, as for `start()`. Errors: those of `start()`,
 * naming the item, and `BatchTooLargeError`.
 */
export function startMany<Args extends unknown[], Result>(
  workflow: StartableWorkflow<Args, Result>,
  items: readonly StartManyItem<Args>[],
): Promise<Run<Result>[]>;
export function startMany<Result = unknown>(
  workflow: string,
  items: readonly { args?: readonly unknown[]; id?: string }[],
): Promise<Run<Result>[]>;
export function startMany(workflow: unknown, items: readonly unknown[]): Promise<Run<unknown>[]> {
  return (processClient().startMany as (workflow: unknown, items: unknown) => Promise<Run<unknown>[]>)(
    workflow,
    items,
  );
}

/** A handle on an existing run. Reading from it fails with `RunNotFoundError` if there is none. */
export function getRun<Result = unknown>(runId: string): Run<Result> {
  return processClient().getRun<Result>(runId);
}

/** The active hook listening on `token`. `HookNotFoundError` if none. */
export function getHookByToken(token: string): Promise<HookInfo> {
  return processClient().getHookByToken(token);
}

/**
 * Sends `payload` to the hook listening on `token`; the waiting workflow receives it. Once this
 * resolves, the payload is stored and will be delivered. Errors: `HookNotFoundError` for an
 * unknown token, `SerializationError` for a payload that cannot be stored, `PayloadTooLargeError`
 * for one over the per-payload limit or one that would take the run past its total
 * (`STEPWISE_MAX_RUN_BYTES`), `RunFinishedError` when the run has ended, `ConfigError` when the
 * run is encrypted and this process has no key. None writes anything.
 */
export function resumeHook(token: string, payload: unknown): Promise<HookInfo> {
  return processClient().resumeHook(token, payload);
}

/**
 * Delivers `request` to the workflow waiting on the webhook with `token` and returns the HTTP
 * response to send. `HookNotFoundError` for an unknown token, or one that belongs to a plain hook
 * (those are not reachable over HTTP); `PayloadTooLargeError` for a body over the payload limit.
 * Neither writes anything.
 */
export function resumeWebhook(
  token: string,
  request: Request,
  options: { timeoutMs?: number } = {},
): Promise<Response> {
  return processClient().resumeWebhook(token, request, options);
}

/**
 * Sends an event of `type` with `payload` to the run `runId`; its first `waitForEvent(type)` that
 * has not received one takes it, now or when the workflow gets there (`Client.sendEvent` lists
 * the errors; none writes anything).
 */
export function sendEvent(runId: string, type: string, payload: unknown): Promise<SentEvent> {
  return processClient().sendEvent(runId, type, payload);
}

/**
 * Moves the run to the version of its workflow this process has registered, once its log replays
 * against it — what `npx stepwise upgrade <runId>` does, with this process's World, payload keys
 * and limits — and says what happened (`verdict`: `upgraded`, or why not). Never throws for what
 * the run is; only for a World that fails.
 */
export function upgradeRun(runId: string, options: UpgradeRunOptions = {}): Promise<UpgradeResult> {
  return processClient().upgradeRun(runId, options);
}

/** Ids of the workflows registered in this process. */
export function listWorkflows(): string[] {
  return registeredWorkflowIds();
}
