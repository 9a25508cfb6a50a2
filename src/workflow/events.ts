/**
 * `waitForEvent` and `defineEvent` as workflow code sees them. A wait is a durable call like
 * `sleep`: it takes the next call index and becomes an `event` command; the host delivers the first
 * event of its type not taken yet (`event_received`, with the payload and when it was sent) or its
 * timeout (`event_timed_out`), in log order, so a replay hands the workflow the same outcome. A
 * wait with a schema validates what it receives, as a typed hook does.
 *
 * Runs inside the sandbox: no Node imports.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { StepwiseError } from "../errors/base.ts";
import { checkEventType, EventPayloadValidationError, WaitTimeoutError } from "../errors/events.ts";
import { type Duration, resolveDeadline } from "../util/duration.ts";
import type { Clock } from "./determinism.ts";
import type { HostBridge } from "./protocol.ts";
import { validatePayload } from "./schema.ts";

/** The default timeout of `waitForEvent`, as Cloudflare Workflows has it. */
export const DEFAULT_EVENT_TIMEOUT = "24 hours";

/** An event as `waitForEvent` returns it. */
export interface WorkflowEvent<T = unknown> {
  type: string;
  payload: T;
  /** When the event was sent (`sendEvent`). */
  timestamp: Date;
}

export interface WaitForEventOptions<T = unknown> {
  /** How long to wait ('10m', '7 days', ms) or until when (a `Date`); default 24 hours. */
  timeout?: Duration;
  /** A Standard Schema (zod, valibot, arktype, ...) the payload must satisfy. */
  schema?: StandardSchemaV1<unknown, T>;
}

/** What the prelude hands a pending event wait. */
export interface EventArrival {
  payload: unknown;
  sentAt: number;
}

interface EventApiContext {
  bridge: HostBridge;
  clock: Clock;
  /** Registers the outcome handlers of a command's receipt id. */
  expect(id: string, handlers: { resolve(value: unknown): void; reject(error: unknown): void }): void;
}

function timeoutText(timeout: Duration): string {
  if (timeout instanceof Date) return `waiting until ${timeout.toISOString()}`;
  return typeof timeout === "number" ? `${timeout} ms` : timeout;
}

/** Builds `waitForEvent` and `defineEvent` for one run. */
export function createEventApi(context: EventApiContext) {
  const { bridge, clock } = context;

  async function waitForEvent<T = unknown>(
    type: string,
    options: WaitForEventOptions<T> = {},
  ): Promise<WorkflowEvent<T>> {
    const eventType = checkEventType(type);
    const timeout = options.timeout ?? DEFAULT_EVENT_TIMEOUT;
    const timeoutAt = resolveDeadline(timeout, clock.now, `waitForEvent("${eventType}") timeout`);
    const receipt = bridge.command({ kind: "event", eventType, timeoutAt });
    const arrival = await new Promise<EventArrival>((resolve, reject) => {
      context.expect(receipt.id, {
        resolve: (value) => resolve(value as EventArrival),
        reject: () => reject(new WaitTimeoutError(eventType, timeoutAt, timeoutText(timeout))),
      });
    });
    const payload =
      options.schema === undefined
        ? (arrival.payload as T)
        : await validatePayload(
            options.schema,
            arrival.payload,
            (summary) =>
              `The payload of the "${eventType}" event does not match the schema of waitForEvent("${eventType}"): ${summary}`,
            (message, issues) => new EventPayloadValidationError(message, issues),
          );
    return { type: eventType, payload, timestamp: new Date(arrival.sentAt) };
  }

  function defineEvent<T = unknown>(
    type: string,
    definition: { schema?: StandardSchemaV1<unknown, T> } = {},
  ) {
    const eventType = checkEventType(type);
    return {
      type: eventType,
      wait: (options: { timeout?: Duration } = {}): Promise<WorkflowEvent<T>> =>
        waitForEvent<T>(eventType, {
          ...options,
          ...(definition.schema === undefined ? {} : { schema: definition.schema }),
        }),
      send: (): never => {
        throw new StepwiseError(
          `event.send() cannot be called inside a workflow. Send events from application code (sendEvent from stepwise-workflows/api, or run.sendEvent), or from a step.`,
        );
      },
    };
  }

  return { waitForEvent, defineEvent };
}
