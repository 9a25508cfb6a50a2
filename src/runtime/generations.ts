/**
 * Generations of a run's log. `run.restart()` appends `run_restarted`, which begins a new
 * generation (the first is everything before the first restart) and keeps the calls of the
 * previous one below a call index (`fromCall`), with ALL their recorded outcomes. This file turns a
 * whole log into the events that the current generation replays: the kept events of the earlier
 * generations (recursively: a generation's kept events are themselves made of kept events and its
 * own), followed by the current generation's own. Each comes with the generation that wrote it,
 * because a call keeps the id its own generation derived (`derivedId`, `util/ids.ts`).
 *
 * What a kept call keeps: its creation, every later attempt and retry, every outcome (delivered in
 * the order the log recorded them, even those recorded after the restart point, e.g. a step that
 * finished while the restarted one ran beside it) — but not a hook disposal recorded after the
 * restart point: disposing is something the workflow did after that point, which it does again
 * (or not) as it runs on from there.
 */
import type { EventRecord } from "../world/events.ts";

/** An event of the log as the current generation replays it, with the generation that wrote it. */
export interface GenerationEvent {
  event: EventRecord;
  generation: number;
}

export interface Generations {
  /** The current generation (1 before the first restart). */
  generation: number;
  /** The events the current generation replays: the kept ones of earlier generations, then its own. */
  events: GenerationEvent[];
  /** How many of `events` (from the start) were kept from earlier generations. */
  kept: number;
  /** How many calls the current generation kept from the previous ones (its `fromCall`). */
  keptCalls: number;
  /** The current generation's own events (after its `run_restarted`, or the whole log in generation 1). */
  own: EventRecord[];
}

/** The call id an event belongs to (the step, wait or hook), if it belongs to one. */
export function callIdOf(event: EventRecord): string | undefined {
  switch (event.type) {
    case "step_started":
    case "step_retrying":
    case "step_completed":
    case "step_failed":
      return event.data.stepId;
    case "wait_created":
    case "wait_completed":
    case "event_wait_created":
    case "event_received":
    case "event_wait_timed_out":
      return event.data.waitId;
    case "hook_created":
    case "hook_conflict":
    case "hook_received":
    case "hook_disposed":
      return event.data.hookId;
    default:
      return undefined;
  }
}

/** Whether `event` records a call the workflow made (the first event of its call id). */
function isCallCreation(event: EventRecord): boolean {
  return (
    event.type === "step_started" ||
    event.type === "wait_created" ||
    event.type === "event_wait_created" ||
    event.type === "hook_created" ||
    event.type === "hook_conflict"
  );
}

/**
 * The events of `events` that a restart from call index `fromCall` keeps: those of calls with a
 * lower index, except their hook disposals recorded after that call was made (see the header).
 */
export function keptEvents(events: readonly GenerationEvent[], fromCall: number): GenerationEvent[] {
  if (fromCall <= 0) return [];
  const index = new Map<string, number>();
  let cut = events.length;
  events.forEach(({ event }, position) => {
    const id = callIdOf(event);
    if (id === undefined || index.has(id) || !isCallCreation(event)) return;
    if (index.size === fromCall && cut === events.length) cut = position;
    index.set(id, index.size);
  });
  return events.filter(({ event }, position) => {
    const id = callIdOf(event);
    const call = id === undefined ? undefined : index.get(id);
    if (call === undefined || call >= fromCall) return false;
    return position < cut || event.type !== "hook_disposed";
  });
}

/** Splits a log into its generations and returns what the current one replays. */
export function generationsOf(log: readonly EventRecord[]): Generations {
  let generation = 1;
  let carried: GenerationEvent[] = [];
  let keptCalls = 0;
  let own: EventRecord[] = [];
  for (const event of log) {
    if (event.type === "run_restarted") {
      const previous = [...carried, ...own.map((e) => ({ event: e, generation }))];
      carried = keptEvents(previous, event.data.fromCall);
      keptCalls = event.data.fromCall;
      generation = event.data.generation;
      own = [];
      continue;
    }
    own.push(event);
  }
  return {
    generation,
    events: [...carried, ...own.map((event) => ({ event, generation }))],
    kept: carried.length,
    keptCalls,
    own,
  };
}
