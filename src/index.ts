/**
 * `stepwise-workflows`: the functions workflow and step code import. Inside a workflow ("use workflow") the
 * compiler swaps this module for its sandbox twin (`workflow/api.ts`), where `sleep` and the hooks
 * are durable; here, in ordinary code and in steps, they explain where they belong instead.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { resumeHook, type SentEvent, sendEvent } from "./api/index.ts";
import { StepwiseError } from "./errors/base.ts";
import { checkEventType } from "./errors/events.ts";
import { registerEventSchema } from "./runtime/event-types.ts";
import { stepContext } from "./runtime/step-context.ts";
import { durableWritable, type StreamTarget, streamName } from "./runtime/streams.ts";
import type { Duration } from "./util/duration.ts";
import type { WaitForEventOptions, WorkflowEvent } from "./workflow/events.ts";
import type { Hook, Webhook } from "./workflow/hooks.ts";
import { validatePayload } from "./workflow/schema.ts";

export type { SentEvent } from "./client/events.ts";
export { ensureError, StepwiseError } from "./errors/base.ts";
export { RunNotPausedError } from "./errors/control.ts";
export { EventPayloadValidationError, InvalidEventTypeError, WaitTimeoutError } from "./errors/events.ts";
export {
  InvalidRestartPointError,
  RestartConflictError,
  type RestartConflictReason,
  RestartStepNotFoundError,
} from "./errors/restart.ts";
export {
  AmbiguousWorkflowNameError,
  BatchTooLargeError,
  ConfigError,
  HookPayloadValidationError,
  InvalidDurationError,
  InvalidRunIdError,
  InvalidStreamNameError,
  NonDeterminismError,
  PayloadTooLargeError,
  SandboxViolationError,
  SerializationError,
  StepNotRegisteredError,
  StreamRangeError,
  WorkflowNotFoundError,
  WorkflowNotRegisteredError,
  WorkflowRunCancelledError,
  WorkflowRunFailedError,
} from "./errors/runtime.ts";
export { StepAbortedError, type StepAbortReason, type StepAttempt, StepTimeoutError } from "./errors/step.ts";
export { FatalError, type RetryAfter, RetryableError, type RetryableErrorOptions } from "./errors/user.ts";
export {
  ConflictError,
  HookNotFoundError,
  HookTokenConflictError,
  ImportConflictError,
  LeaseLostError,
  NotFoundError,
  RunFinishedError,
  RunIdConflictError,
  RunNotFoundError,
  SequenceConflictError,
  WorldBusyError,
  WorldCorruptError,
  WorldStorageError,
  type WorldStorageReason,
  WorldUnavailableError,
} from "./errors/world.ts";
export type { RetryConfig, StepConfig } from "./runtime/registry.ts";
export {
  deserialize,
  registerClass,
  type SerializableClass,
  serialize,
  UnregisteredInstance,
} from "./serde/classes.ts";
export type { Duration } from "./util/duration.ts";
export type { WaitForEventOptions, WorkflowEvent } from "./workflow/events.ts";
export type { Hook, Webhook, WebhookRequest } from "./workflow/hooks.ts";

function onlyInWorkflow(name: string): never {
  throw new StepwiseError(
    `${name} can only be used inside a workflow function ("use workflow"), where it is durable. In a step or in application code, it has no durable meaning.`,
  );
}

/** Durably pauses the workflow: for a duration ('10s', '5m', '7 days', ms) or until a `Date`. */
export function sleep(_duration: Duration): Promise<void> {
  return onlyInWorkflow("sleep()");
}

/**
 * Durably waits for the next event of `type` sent to this run (`run.sendEvent(type, payload)`,
 * `sendEvent` from `stepwise-workflows/api`, `POST /runs/:runId/events`, `npx stepwise
 * send-event`): resolves with `{ type, payload, timestamp }`, or throws a `WaitTimeoutError` after
 * `timeout` (default 24 hours; a duration or a `Date`). Events sent before the workflow waits are
 * kept, in order: the first wait of their type takes the oldest. With `schema`, the payload is
 * validated (`EventPayloadValidationError`). Workflow code only.
 */
export function waitForEvent<T = unknown>(
  _type: string,
  _options?: WaitForEventOptions<T>,
): Promise<WorkflowEvent<T>> {
  return onlyInWorkflow("waitForEvent()");
}

/** An event type with its payload's schema, shared by the workflow that waits and the code that sends. */
export interface EventDefinition<T> {
  readonly type: string;
  /** In a workflow: `waitForEvent(type, { timeout, schema })`. */
  wait(options?: { timeout?: Duration }): Promise<WorkflowEvent<T>>;
  /** In application code (or a step): `sendEvent(runId, type, payload)`, checked by the schema. */
  send(runId: string, payload: T): Promise<SentEvent>;
}

/**
 * Declares an event type and, optionally, the Standard Schema (zod, valibot, arktype, ...) its
 * payloads satisfy. Declared at the top level of a module the workflow and the sender both load,
 * it lets every `sendEvent` of this type in the process refuse a payload that fails the schema,
 * with the schema's message, before anything is stored — even before the run waits for it — and
 * `event.wait()` validates what the workflow receives. `InvalidEventTypeError` for a bad type.
 */
export function defineEvent<T = unknown>(
  type: string,
  definition: { schema?: StandardSchemaV1<unknown, T> } = {},
): EventDefinition<T> {
  const eventType = checkEventType(type);
  if (definition.schema !== undefined) registerEventSchema(eventType, definition.schema);
  return {
    type: eventType,
    wait: () => onlyInWorkflow("event.wait()"),
    send: (runId, payload) => sendEvent(runId, eventType, payload),
  };
}

export interface CreateHookOptions {
  /** A token of your choosing (1 to 256 characters); an unguessable one is derived when omitted. */
  token?: string;
}

/** A hook the workflow waits on: `await hook` gives the first payload, `for await` gives each one. */
export function createHook<T = unknown>(_options?: CreateHookOptions): Hook<T> {
  return onlyInWorkflow("createHook()");
}

export interface HookDefinition<T> {
  /** In a workflow: creates the hook (see `createHook`). */
  create(options?: CreateHookOptions): Hook<T>;
  /** In application code: validates `payload` against the schema, then resumes the hook. */
  resume(token: string, payload: T): Promise<void>;
}

/** A typed hook, optionally validated by a Standard Schema (zod, valibot, arktype, ...). */
export function defineHook<T = unknown>(
  definition: { schema?: StandardSchemaV1<unknown, T> } = {},
): HookDefinition<T> {
  return {
    create: () => onlyInWorkflow("hook.create()"),
    async resume(token, payload) {
      const value =
        definition.schema === undefined
          ? payload
          : await validatePayload(
              definition.schema,
              payload,
              (summary) =>
                `The payload for hook ${token} does not match the hook's schema: ${summary}. Nothing was sent.`,
            );
      await resumeHook(token, value);
    },
  };
}

export interface CreateWebhookOptions {
  /**
   * How each request is answered: a `Response` made in the workflow (recorded), or "manual" — the
   * workflow answers with `await request.respondWith(response)`. Default: 202 Accepted.
   */
  respondWith?: "manual" | Response;
}

/**
 * A webhook (workflow code only): `webhook.url` accepts HTTP requests (served by the HTTP handler,
 * `stepwise-workflows/http`); `await webhook` gives the first `Request`, `for await` every one. The token in
 * the URL is unguessable.
 */
export function createWebhook(_options?: CreateWebhookOptions): Webhook {
  return onlyInWorkflow("createWebhook()");
}

/**
 * In workflow code, a durable `fetch`: it runs as a step, so it is recorded once and retried like
 * one (network errors, 5xx and 429, honouring Retry-After). Elsewhere (steps, application code) it
 * is the platform's `fetch`.
 */
export function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  return globalThis.fetch(input, init);
}

export interface StepMetadata {
  /** Stable across attempts and replays: use it as an idempotency key. */
  stepId: string;
  stepName: string;
  /** 1 for the first attempt. */
  attempt: number;
  stepStartedAt: Date;
  /**
   * Aborts when this attempt should stop: its `timeout` ran out (`reason` is a `StepTimeoutError`),
   * or its result is no longer wanted — the run was cancelled or ended, the worker lost the run or
   * is shutting down (`reason` is a `StepAbortedError`; `reason.reason` says which). Pass it to
   * `fetch` and anything else that takes a signal. A step that ignores it runs on, and what it
   * returns after a timeout, a cancellation or a lost lease is discarded. Not enumerable, so the
   * metadata object stays plain data (a step may return or log it).
   */
  readonly signal: AbortSignal;
}

/** The current step's id, attempt and abort signal. Only inside a step ("use step"). */
export function getStepMetadata(): StepMetadata {
  const context = stepContext.getStore();
  if (context === undefined) {
    throw new StepwiseError(
      'getStepMetadata() can only be called inside a step function ("use step"), while it runs.',
    );
  }
  const metadata = {
    stepId: context.stepId,
    stepName: context.stepName,
    attempt: context.attempt,
    stepStartedAt: context.stepStartedAt,
  };
  // Not enumerable: the metadata stays plain data that a step can return or log as before.
  Object.defineProperty(metadata, "signal", { value: context.signal, enumerable: false });
  return metadata as StepMetadata;
}

export interface WorkflowMetadata {
  runId: string;
  workflowName: string;
  workflowStartedAt: Date;
  /**
   * The version of the workflow code the run replays with: the hex SHA-256 of its workflow
   * bundle, the run's `bundleHash` (`npx stepwise inspect run` shows it; `npx stepwise upgrade`
   * moves a run to the current one). The same in the workflow and in its steps, and on every
   * replay until the run is upgraded. Undefined for a run started before runs were pinned to
   * their code (such a run replays with whatever code the worker has).
   */
  version: string | undefined;
}

/** The current run's id and workflow. Inside a workflow, or a step it called. */
export function getWorkflowMetadata(): WorkflowMetadata {
  const context = stepContext.getStore();
  if (context === undefined) {
    throw new StepwiseError(
      'getWorkflowMetadata() can only be called inside a workflow ("use workflow") or one of its steps.',
    );
  }
  return {
    runId: context.runId,
    workflowName: context.workflowName,
    workflowStartedAt: context.workflowStartedAt,
    version: context.workflowVersion,
  };
}

export interface WritableOptions {
  /** The stream's name; the run's default stream when omitted. */
  namespace?: string;
}

/**
 * The run's durable stream (or the one named `namespace`), for writing chunks — text, objects or
 * `Uint8Array` — that clients read with `run.getReadable()`, even after reconnecting. Inside a step,
 * write to it directly; in workflow code, pass it to the steps that write.
 * `InvalidStreamNameError` for a name that is not allowed.
 */
export function getWritable<T = unknown>(options: WritableOptions = {}): WritableStream<T> {
  const context = stepContext.getStore();
  if (context === undefined) {
    throw new StepwiseError(
      'getWritable() can only be called inside a workflow ("use workflow") or one of its steps, where it gives the run\'s durable stream.',
    );
  }
  const { world, payloads, limits, stored } = context.env;
  const target: StreamTarget = {
    world,
    payloads,
    limits,
    scope: context.scope,
    name: streamName(options.namespace),
  };
  if (stored !== undefined) target.stored = stored;
  return durableWritable(target) as WritableStream<T>;
}
