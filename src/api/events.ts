/**
 * `sendEvent(runId, type, payload)`: sends an event to a run, where `waitForEvent(type)` receives
 * it. The event is stored in the run's inbox at once, whether or not the workflow waits for it yet
 * (Cloudflare's semantics: events sent before the wait are kept, in order, and the first wait of
 * their type takes the oldest). Everything is checked before anything is written: the type, the
 * run (it exists and has not ended), the payload against its type's schema (`defineEvent`), its
 * serialization and its size.
 */
import { checkEventType, EventPayloadValidationError } from "../errors/events.ts";
import { SerializationError } from "../errors/runtime.ts";
import { RunFinishedError } from "../errors/world.ts";
import { eventSchema } from "../runtime/event-types.ts";
import { ensureWorker, getWorld } from "../runtime/process.ts";
import { encodeValue } from "../serde/codec.ts";
import { validatePayload } from "../workflow/schema.ts";
import { TERMINAL_RUN_STATUSES, type World } from "../world/types.ts";
import { type DeliveryContext, deliverEvent } from "./deliver.ts";

/** An event that `sendEvent` stored for its run. */
export interface SentEvent {
  /** The event's id (`evt_…`), as `inspect events` shows it in `event_received`. */
  eventId: string;
  runId: string;
  type: string;
  /** When it was stored: the `timestamp` the workflow receives with it. */
  sentAt: Date;
}

/**
 * Sends an event of `type` with `payload` to the run `runId`. Once this resolves the event is
 * stored; the run's first `waitForEvent(type)` that has not received one takes it (now, or when
 * the workflow gets there). Errors, none of which writes anything: `InvalidEventTypeError` for a
 * type that is not 1 to 100 letters, digits and `_ . : -`; `RunNotFoundError` for an unknown run;
 * `RunFinishedError` when the run has ended; `EventPayloadValidationError` when the payload fails
 * the schema `defineEvent(type, { schema })` declared in this process; `SerializationError` for a
 * payload that cannot be stored; `PayloadTooLargeError` for one over the per-payload limit or one
 * that would take the run past its total; `ConfigError` when the run is encrypted and this process
 * has no key.
 */
export async function sendEvent(runId: string, type: string, payload: unknown): Promise<SentEvent> {
  const sent = await sendEventIn(await getWorld(), undefined, runId, type, payload);
  await ensureWorker();
  return sent;
}

/**
 * `sendEvent` on `world`, with `using`'s codec and limits (the process's when undefined), without
 * starting a worker: shared with `stepwise-workflows/testing`. @internal
 */
export async function sendEventIn(
  world: World,
  using: DeliveryContext | undefined,
  runId: string,
  type: string,
  payload: unknown,
): Promise<SentEvent> {
  const eventType = checkEventType(type);
  const run = await world.runs.get(runId);
  if (TERMINAL_RUN_STATUSES.has(run.status)) throw new RunFinishedError(runId, run.status);
  const schema = eventSchema(eventType);
  if (schema !== undefined) {
    // The payload is stored as it was sent: the wait, given the same schema, makes its output.
    await validatePayload(
      schema,
      payload,
      (summary) =>
        `The payload of the "${eventType}" event for run ${runId} does not match the schema of defineEvent("${eventType}"): ${summary}. Nothing was sent.`,
      (message, issues) => new EventPayloadValidationError(message, issues),
    );
  }
  let text: string;
  try {
    text = encodeValue(payload);
  } catch (error) {
    throw new SerializationError(
      `The payload of the "${eventType}" event for run ${runId} cannot be serialized: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const what = `The payload of the "${eventType}" event`;
  const item = await deliverEvent(world, run, eventType, text, what, using);
  return { eventId: item.itemId, runId, type: eventType, sentAt: new Date(item.createdAt) };
}
