/**
 * `sendEvent(runId, type, payload)`: sends an event to a run, where `waitForEvent(type)` receives
 * it. The event is stored in the run's inbox at once, whether or not the workflow waits for it yet
 * (Cloudflare's semantics: events sent before the wait are kept, in order, and the first wait of
 * their type takes the oldest). Everything is checked before anything is written: the type, the
 * run (it exists and has not ended), the payload against its type's schema (`defineEvent`), its
 * serialization and its size.
 */
import { checkEventType, EventPayloadValidationError } from "../errors/events.ts";
import { RunFinishedError } from "../errors/world.ts";
import { eventSchema } from "../runtime/event-types.ts";
import { validatePayload } from "../workflow/schema.ts";
import { TERMINAL_RUN_STATUSES, type World } from "../world/types.ts";
import { deliverEvent, type SealContext } from "./store.ts";

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
 * Sends an event of `type` with `payload` to the run `runId` in `world`, sealed with `using`'s
 * codec and limits (see `Client.sendEvent` for the rules and errors; none writes anything).
 * Shared by every client and `stepwise-workflows/testing`. @internal
 */
export async function sendEventIn(
  world: World,
  using: SealContext,
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
  const item = await deliverEvent(world, using, run, eventType, payload, {
    what: `The payload of the "${eventType}" event`,
    unserializable: `The payload of the "${eventType}" event for run ${runId}`,
  });
  return { eventId: item.itemId, runId, type: eventType, sentAt: new Date(item.createdAt) };
}
