/**
 * The `stepwise-workflows` module as workflow code sees it inside the sandbox: `sleep`, events, hooks,
 * metadata and the error classes. Every durable operation becomes a command to the host runtime; its outcome
 * comes back as a delivery (see `prelude.ts`).
 *
 * Runs inside the sandbox: no Node imports.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { ensureError, StepwiseError } from "../errors/base.ts";
import * as controlErrors from "../errors/control.ts";
import * as eventErrors from "../errors/events.ts";
import * as runtimeErrors from "../errors/runtime.ts";
import * as stepErrors from "../errors/step.ts";
import { FatalError, RetryableError } from "../errors/user.ts";
import * as worldErrors from "../errors/world.ts";
import { type Duration, resolveDeadline } from "../util/duration.ts";
import { BUILTIN_STEPS } from "./builtin-step-names.ts";
import type { Clock } from "./determinism.ts";
import { createEventApi } from "./events.ts";
import { Hook, Webhook } from "./hooks.ts";
import { streamName } from "./stream-name.ts";
import type { WorkflowStreamClass } from "./streams.ts";
import {
  type RequestShape,
  type ResponseShape,
  requestShape,
  responseShape,
  toRequest,
  toResponse,
} from "./web.ts";

const { fetch: FETCH_STEP, webhookRespond: WEBHOOK_RESPOND_STEP } = BUILTIN_STEPS;

import type { CommandReceipt, HostBridge } from "./protocol.ts";

export interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface ApiContext {
  bridge: HostBridge;
  clock: Clock;
  pending: Map<string, Pending>;
  hooks: Map<string, Hook<unknown>>;
  /** A stub that calls one of the runtime's built-in steps. */
  step(stepName: string): (...args: unknown[]) => Promise<unknown>;
  /** The realm's global object (for Request / Response). */
  realm: Record<string, unknown>;
  /** The realm's stream handle class. */
  streams: WorkflowStreamClass;
}

/** How a webhook answers the HTTP request that resumed it. */
export type WebhookRespondWith = "manual" | Response;

export interface CreateWebhookOptions {
  /**
   * The response to every request: a `Response` (status, headers and body are recorded), or
   * "manual": the workflow answers each request with `await request.respondWith(response)`.
   * Default: 202 Accepted.
   */
  respondWith?: WebhookRespondWith;
}

export interface CreateHookOptions {
  /** A token of your choosing (1 to 256 characters); a secret one is derived when omitted. */
  token?: string;
}

function checkToken(token: unknown): string | undefined {
  if (token === undefined) return undefined;
  if (typeof token !== "string" || token.length === 0 || token.length > 256) {
    throw new StepwiseError(
      `A hook token must be a string of 1 to 256 characters; got ${JSON.stringify(token)}.`,
    );
  }
  return token;
}

export function createWorkflowApi(context: ApiContext): Record<string, unknown> {
  const { bridge, clock, pending, hooks } = context;

  const awaitCommand = (receipt: CommandReceipt): Promise<unknown> =>
    new Promise((resolve, reject) => {
      pending.set(receipt.id, { resolve, reject });
    });

  function sleep(duration: Duration): Promise<void> {
    let resumeAt: number;
    try {
      resumeAt = resolveDeadline(duration, clock.now, "sleep()");
    } catch (error) {
      return Promise.reject(error);
    }
    return awaitCommand(bridge.command({ kind: "sleep", resumeAt })).then(() => undefined);
  }

  function makeHook<T>(
    options: CreateHookOptions | undefined,
    schema: StandardSchemaV1<unknown, T> | undefined,
  ): Hook<T> {
    const token = checkToken(options?.token);
    const receipt = bridge.command(
      token === undefined ? { kind: "hook", webhook: false } : { kind: "hook", token, webhook: false },
    );
    const hook = new Hook<T>(receipt.id, receipt.token ?? "", {
      schema,
      dispose: () => bridge.disposeHook(receipt.id),
    });
    hooks.set(receipt.id, hook as Hook<unknown>);
    return hook;
  }

  function createWebhook(options: CreateWebhookOptions = {}): Webhook {
    const respondWith = options.respondWith;
    let meta: Record<string, unknown>;
    if (respondWith === undefined) meta = { respond: "accepted" };
    else if (respondWith === "manual") meta = { respond: "manual" };
    else meta = { respond: "static", response: responseShape(respondWith) };
    const receipt = bridge.command({ kind: "hook", webhook: true, meta });
    const respond = respondWith === "manual" ? context.step(WEBHOOK_RESPOND_STEP) : undefined;
    const webhook = new Webhook(receipt.id, receipt.token ?? "", receipt.url ?? "", {
      transform: (payload) => toRequest(payload as RequestShape, context.realm, respond),
      dispose: () => bridge.disposeHook(receipt.id),
    });
    hooks.set(receipt.id, webhook as Hook<unknown>);
    return webhook;
  }

  const streamSteps = {
    write: context.step(BUILTIN_STEPS.streamWrite),
    close: context.step(BUILTIN_STEPS.streamClose),
  };
  function getWritable(options: { namespace?: string } = {}): WritableStream<unknown> {
    return new context.streams(streamName(options.namespace), streamSteps);
  }

  const fetchStep = context.step(FETCH_STEP);
  async function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const shape = await requestShape(input, init);
    return toResponse((await fetchStep(shape)) as ResponseShape, context.realm);
  }

  function createHook<T = unknown>(options?: CreateHookOptions): Hook<T> {
    return makeHook<T>(options, undefined);
  }

  function defineHook<T = unknown>(definition: { schema?: StandardSchemaV1<unknown, T> } = {}) {
    return {
      create: (options?: CreateHookOptions): Hook<T> => makeHook<T>(options, definition.schema),
      resume: (): never => {
        throw new StepwiseError(
          "hook.resume() cannot be called inside a workflow. Resume hooks from application code (resumeHook from stepwise-workflows/api), or from a step.",
        );
      },
    };
  }

  function getWorkflowMetadata() {
    return {
      runId: bridge.run.runId,
      workflowName: bridge.run.workflowName,
      workflowStartedAt: new Date(bridge.run.createdAt),
      version: bridge.run.version,
    };
  }

  function getStepMetadata(): never {
    throw new StepwiseError(
      "getStepMetadata() can only be called inside a step ('use step'), where it gives the step id and attempt. In workflow code, use getWorkflowMetadata().",
    );
  }

  const { waitForEvent, defineEvent } = createEventApi({
    bridge,
    clock,
    expect: (id, handlers) => pending.set(id, handlers),
  });

  const api: Record<string, unknown> = {
    sleep,
    waitForEvent,
    defineEvent,
    createHook,
    createWebhook,
    defineHook,
    fetch,
    getWritable,
    getWorkflowMetadata,
    getStepMetadata,
    FatalError,
    RetryableError,
    StepwiseError,
    ensureError,
  };
  return Object.assign(api, ERROR_CLASSES);
}

const ERROR_CLASSES: Record<string, unknown> = Object.fromEntries(
  Object.entries({
    ...runtimeErrors,
    ...stepErrors,
    ...worldErrors,
    ...eventErrors,
    ...controlErrors,
  }).filter(([name, value]) => typeof value === "function" && name.endsWith("Error")),
);

/**
 * The names workflow code may import from `stepwise-workflows`. The compiler maps the import to the
 * sandbox's api object and rejects other names with a message.
 */
export const WORKFLOW_API_NAMES: readonly string[] = [
  "sleep",
  "waitForEvent",
  "defineEvent",
  "createHook",
  "createWebhook",
  "defineHook",
  "fetch",
  "getWritable",
  "getWorkflowMetadata",
  "getStepMetadata",
  "FatalError",
  "RetryableError",
  "StepwiseError",
  "ensureError",
  ...Object.keys(ERROR_CLASSES),
];
