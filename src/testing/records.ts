/**
 * A run's log and steps as a test reads them: the stored records with their payloads decoded
 * (arguments, results, errors, hook payloads, events) and their times as `Date`s.
 */
import { decodeValue } from "../serde/codec.ts";
import type { PayloadCodec } from "../serde/payload.ts";
import { eventPlace, places } from "../serde/places.ts";
import type { EventRecord } from "../world/events.ts";
import type { RunRecord, StepStatus, World } from "../world/types.ts";

/** An event of a run's log, decoded. */
export interface TestEvent {
  seq: number;
  /** `run_created`, `step_started`, `step_retrying`, `wait_created`, `hook_received`, … */
  type: EventRecord["type"];
  /** The event's data as stored (ids, names, times in epoch ms). */
  data: Record<string, unknown>;
  /** The payload the event carries, decoded (a step's result, an error, a hook payload). */
  payload?: unknown;
  /** When the event was recorded, on the environment's (virtual) clock. */
  at: Date;
}

/** A step of a run, decoded. */
export interface TestStep {
  stepId: string;
  /** The step's id: `step//<file>//<function>`. */
  stepName: string;
  status: StepStatus;
  /** The current (or last) attempt, from 1. */
  attempt: number;
  args?: unknown;
  result?: unknown;
  error?: unknown;
  startedAt: Date;
  completedAt?: Date;
  retryAt?: Date;
}

const decode = (codec: PayloadCodec, run: RunRecord, place: string, bytes: Uint8Array): unknown =>
  decodeValue(codec.decode(run, place, bytes));

/** The log of run `runId`, in order, decoded. `RunNotFoundError` for an unknown run. */
export async function readEvents(world: World, codec: PayloadCodec, runId: string): Promise<TestEvent[]> {
  const run = await world.runs.get(runId);
  const events = await world.events.list(runId);
  return events.map((event) => {
    const shown: TestEvent = {
      seq: event.seq,
      type: event.type,
      data: { ...(event.data as Record<string, unknown>) },
      at: new Date(event.createdAt),
    };
    if (event.payload !== undefined) shown.payload = decode(codec, run, eventPlace(event), event.payload);
    return shown;
  });
}

/** The steps of run `runId` in the order they started, decoded. `RunNotFoundError` if unknown. */
export async function readSteps(world: World, codec: PayloadCodec, runId: string): Promise<TestStep[]> {
  const run = await world.runs.get(runId);
  const steps = await world.steps.list(runId);
  return steps.map((step) => {
    const shown: TestStep = {
      stepId: step.stepId,
      stepName: step.stepName,
      status: step.status,
      attempt: step.attempt,
      startedAt: new Date(step.startedAt),
    };
    if (step.input !== undefined) shown.args = decode(codec, run, places.stepArgs(step.stepId), step.input);
    if (step.output !== undefined)
      shown.result = decode(codec, run, places.stepResult(step.stepId), step.output);
    if (step.error !== undefined) shown.error = decode(codec, run, places.stepError(step.stepId), step.error);
    if (step.completedAt !== undefined) shown.completedAt = new Date(step.completedAt);
    if (step.retryAt !== undefined) shown.retryAt = new Date(step.retryAt);
    return shown;
  });
}
