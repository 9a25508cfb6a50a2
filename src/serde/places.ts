/**
 * Where a payload belongs in its run. Every encrypted payload is bound to its place (and its run)
 * through AES-GCM's associated data, so a payload moved to another place — another step's result,
 * another hook delivery, the run's output — fails to decrypt instead of being read as if it
 * belonged there. A place is derived from what the reader already knows (an event's type and
 * metadata, a step's id, a stream's name), never stored with the payload.
 *
 *   run:input | run:output | run:error           the run's arguments, return value, failure
 *   step:<stepId>:args | :result | :error        a step's arguments, its result, its errors
 *   hook:<hookId>:payload:<inboxId>              one delivery to a hook or webhook
 *   hook:<hookId>:response                       a webhook's recorded static response
 *   event:<eventId>:payload:<eventType>          the payload of one event sent to the run
 *   stream:<name>                                a chunk of a stream (order within it is not bound)
 *   step:<stepId>:logs:<attempt>                 what one attempt of a step printed
 *   run:logs:<id>                                what the workflow body printed (one append's worth)
 */
import type { EventRecord, NewEvent } from "../world/events.ts";

export const places = {
  runInput: "run:input",
  runOutput: "run:output",
  runError: "run:error",
  stepArgs: (stepId: string): string => `step:${stepId}:args`,
  stepResult: (stepId: string): string => `step:${stepId}:result`,
  stepError: (stepId: string): string => `step:${stepId}:error`,
  hookPayload: (hookId: string, inboxId: string): string => `hook:${hookId}:payload:${inboxId}`,
  webhookResponse: (hookId: string): string => `hook:${hookId}:response`,
  /**
   * An event's payload, bound to the event (its inbox item) and its type, not to the wait that
   * takes it: it is stored before the workflow waits, and the driver picks the wait.
   */
  eventPayload: (eventId: string, eventType: string): string => `event:${eventId}:payload:${eventType}`,
  streamChunk: (name: string): string => `stream:${name}`,
  /** The console output of one attempt of a step (`SealedLogs` on its outcome event). */
  stepLogs: (stepId: string, attempt: number): string => `step:${stepId}:logs:${attempt}`,
  /** Console output of the workflow body (`workflowLogs` on an event), by its id. */
  workflowLogs: (id: string): string => `run:logs:${id}`,
} as const;

/** The place of the payload an event carries. */
export function eventPlace(event: EventRecord | NewEvent): string {
  switch (event.type) {
    case "run_created":
      return places.runInput;
    case "run_completed":
      return places.runOutput;
    case "run_failed":
      return places.runError;
    case "step_started":
      return places.stepArgs(event.data.stepId);
    case "step_completed":
      return places.stepResult(event.data.stepId);
    case "step_retrying":
    case "step_failed":
      return places.stepError(event.data.stepId);
    case "hook_received":
      return places.hookPayload(event.data.hookId, event.data.inboxId ?? "");
    case "hook_created":
      return places.webhookResponse(event.data.hookId);
    case "event_received":
      return places.eventPayload(event.data.eventId, event.data.eventType);
    default:
      return `event:${event.type}`;
  }
}

/** A place in words, for error messages ("the result of step step_01…"). */
export function describePlace(place: string): string {
  const [kind, id, what, extra] = place.split(":");
  if (kind === "run" && id === "logs") return `the workflow's console output ${what}`;
  if (kind === "step" && what === "logs") return `the console output of step ${id} (attempt ${extra})`;
  if (kind === "run")
    return `the run's ${id === "input" ? "arguments" : id === "output" ? "return value" : "error"}`;
  if (kind === "step") {
    const part = what === "args" ? "arguments" : what === "result" ? "result" : "error";
    return `the ${part} of step ${id}`;
  }
  if (kind === "hook" && what === "payload") return `a payload for hook ${id} (inbox item ${extra})`;
  if (kind === "hook") return `the recorded response of webhook ${id}`;
  if (kind === "event" && what === "payload")
    return `the payload of event ${id} (type "${place.split(":").slice(3).join(":")}")`;
  if (kind === "stream") return `a chunk of stream "${place.slice("stream:".length)}"`;
  if (kind === "bundle") return "the stored workflow code";
  return place;
}
