/**
 * A run's story as a timeline, read from its event log in one pass: its generations (restarts),
 * every attempt of every step (when it started and ended, how: completed, retrying with the
 * next attempt's time, failed, timed out, or interrupted by the run's end or a restart), its
 * waits (sleeps, event waits, hooks) and their ends. It is the dashboard's Gantt chart and what
 * `GET /runs/:runId/timeline` answers. Payloads (step arguments, results, errors, the run's input
 * and outcome) are shown through a `PayloadView` exactly as `inspect` shows them: an encrypted one
 * stays `ENCRYPTED_PAYLOAD` unless the view was unlocked (which wrote the audit record first).
 * Generations are counted as `inspect events` counts them (`generationOf`).
 */
import { eventPlace, places } from "../serde/places.ts";
import type { EventRecord } from "../world/events.ts";
import type { RunRecord, World } from "../world/types.ts";
import type { PayloadView } from "./payload-view.ts";

/** How an attempt ended (`running` while it has not). */
export type AttemptOutcome =
  | "running"
  | "completed"
  | "retrying"
  | "failed"
  | "timed_out"
  /** The run ended, or was restarted, while the attempt ran: its result was never recorded. */
  | "interrupted";

export interface TimelineAttempt {
  attempt: number;
  /** The generation (restart) the attempt belongs to, from 1. */
  generation: number;
  startedAt: number;
  endedAt: number | null;
  outcome: AttemptOutcome;
  /** When the next attempt is due (`retrying`). */
  retryAt: number | null;
  /** What the attempt threw (`retrying`, `failed`, `timed_out`): a decoded value or the placeholder. */
  error?: unknown;
}

export interface TimelineStep {
  stepId: string;
  name: string;
  attempts: TimelineAttempt[];
  /** The step's arguments (recorded with its first attempt). */
  input?: unknown;
  /** Its result, once it completed. */
  output?: unknown;
  /** Its last error, once it failed for good. */
  error?: unknown;
}

export interface TimelineWait {
  kind: "sleep" | "event" | "hook";
  /** sleep: `sleep`; event: the event type; hook: `hook` or `webhook`. */
  name: string;
  /** The wait id (sleeps, event waits) or the hook id. */
  id: string;
  startedAt: number;
  endedAt: number | null;
  /** sleep: when it ends; event: when it times out; hook: none. */
  until: number | null;
  /**
   * waiting (or listening), then: completed (a sleep ended, an event or a hook's first payload
   * arrived), timed_out (an event wait), disposed (a hook disposed before any payload), cancelled
   * (the run ended or was restarted while it waited).
   */
  outcome: "waiting" | "completed" | "timed_out" | "disposed" | "cancelled";
  /** hook: its token. */
  token?: string;
  /** hook: the times payloads arrived. */
  received?: number[];
}

export interface TimelineGeneration {
  generation: number;
  startedAt: number;
  /** The step a restart began again from (absent: from the start). */
  fromStep?: string;
}

export interface Timeline {
  run: RunRecord;
  /** The run's arguments, and its outcome once it has ended (decoded values or the placeholder). */
  input?: unknown;
  output?: unknown;
  error?: unknown;
  generations: TimelineGeneration[];
  steps: TimelineStep[];
  waits: TimelineWait[];
  /** Child runs: Stepwise records no link between runs yet, so this is always empty. */
  children: never[];
}

/** The generation the event begins, if it begins one (`run_restarted`); `inspect events` counts with it too. */
export function generationOf(event: EventRecord): number | undefined {
  return event.type === "run_restarted" ? event.data.generation : undefined;
}

/** Whether an error decoded from a step's `step_retrying` / `step_failed` payload is a timeout. */
function isTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "STEP_TIMEOUT";
}

/** Builds the timeline from the whole log (read in pages of 1000). `RunNotFoundError` if missing. */
export async function runTimeline(world: World, view: PayloadView, runId: string): Promise<Timeline> {
  const run = await world.runs.get(runId);
  const events: EventRecord[] = [];
  for (;;) {
    const page = await world.events.list(runId, { afterSeq: events.at(-1)?.seq ?? 0, limit: 1000 });
    events.push(...page);
    if (page.length < 1000) break;
  }
  return buildTimeline(run, events, view);
}

/** The timeline of `run` from its `events` (the whole log, in order). */
export function buildTimeline(run: RunRecord, events: readonly EventRecord[], view: PayloadView): Timeline {
  const show = (event: EventRecord): unknown => view.show(run, eventPlace(event), event.payload);
  const timeline: Timeline = { run, generations: [], steps: [], waits: [], children: [] };
  const steps = new Map<string, TimelineStep>();
  const waits = new Map<string, TimelineWait>();
  let generation = 1;
  const open = (step: TimelineStep | undefined): TimelineAttempt | undefined => {
    const last = step?.attempts.at(-1);
    return last?.outcome === "running" ? last : undefined;
  };
  /**
   * Ends what is still open when the run ends or restarts: the attempts in flight, and the waits
   * unless `keep` is false (a restart's `run_cancelled`: its `run_restarted` says which waits it keeps)
   * or lists them.
   */
  const interrupt = (at: number, keep: ReadonlySet<string> | false = new Set()): void => {
    for (const step of steps.values()) {
      const attempt = open(step);
      if (attempt !== undefined) Object.assign(attempt, { outcome: "interrupted", endedAt: at });
    }
    if (keep === false) return;
    for (const wait of waits.values()) {
      if (wait.endedAt === null && !keep.has(wait.id))
        Object.assign(wait, { outcome: "cancelled", endedAt: at });
    }
  };
  const endWait = (id: string, at: number, outcome: TimelineWait["outcome"]): void => {
    const wait = waits.get(id);
    if (wait !== undefined && wait.endedAt === null) Object.assign(wait, { endedAt: at, outcome });
  };
  for (const event of events) {
    const at = event.createdAt;
    switch (event.type) {
      case "run_created":
        timeline.generations.push({ generation: 1, startedAt: at });
        timeline.input = view.show(run, places.runInput, event.payload);
        break;
      case "run_restarted": {
        interrupt(at, new Set([...(event.data.hooks ?? []), ...(event.data.waits ?? [])]));
        generation = event.data.generation;
        const entry: TimelineGeneration = { generation, startedAt: at };
        if (event.data.step !== undefined) entry.fromStep = event.data.step;
        timeline.generations.push(entry);
        delete timeline.output;
        delete timeline.error;
        break;
      }
      case "step_started": {
        let step = steps.get(event.data.stepId);
        if (step === undefined) {
          step = { stepId: event.data.stepId, name: event.data.stepName, attempts: [] };
          steps.set(step.stepId, step);
          timeline.steps.push(step);
        }
        if (event.data.attempt === 1 && event.payload !== undefined) step.input = show(event);
        const running = open(step);
        // The same attempt started again: its worker was lost before recording an outcome.
        if (running !== undefined) Object.assign(running, { outcome: "interrupted", endedAt: at });
        step.attempts.push({
          attempt: event.data.attempt,
          generation,
          startedAt: at,
          endedAt: null,
          outcome: "running",
          retryAt: null,
        });
        break;
      }
      case "step_completed": {
        const step = steps.get(event.data.stepId);
        const attempt = open(step);
        if (step === undefined) break;
        step.output = show(event);
        delete step.error;
        if (attempt !== undefined) Object.assign(attempt, { outcome: "completed", endedAt: at });
        break;
      }
      case "step_retrying":
      case "step_failed": {
        const step = steps.get(event.data.stepId);
        const attempt = open(step);
        if (step === undefined) break;
        const error = show(event);
        if (event.type === "step_failed") step.error = error;
        if (attempt === undefined) break;
        attempt.endedAt = at;
        attempt.error = error;
        if (event.type === "step_retrying") {
          attempt.outcome = isTimeout(error) ? "timed_out" : "retrying";
          attempt.retryAt = event.data.retryAt;
        } else attempt.outcome = isTimeout(error) ? "timed_out" : "failed";
        break;
      }
      case "wait_created":
        waits.set(event.data.waitId, {
          kind: "sleep",
          name: "sleep",
          id: event.data.waitId,
          startedAt: at,
          endedAt: null,
          until: event.data.resumeAt,
          outcome: "waiting",
        });
        break;
      case "event_wait_created":
        waits.set(event.data.waitId, {
          kind: "event",
          name: event.data.eventType,
          id: event.data.waitId,
          startedAt: at,
          endedAt: null,
          until: event.data.timeoutAt,
          outcome: "waiting",
        });
        break;
      case "wait_completed":
      case "event_received":
        endWait(event.data.waitId, at, "completed");
        break;
      case "event_wait_timed_out":
        endWait(event.data.waitId, at, "timed_out");
        break;
      case "hook_created":
        waits.set(event.data.hookId, {
          kind: "hook",
          name: event.data.kind,
          id: event.data.hookId,
          startedAt: at,
          endedAt: null,
          until: null,
          outcome: "waiting",
          token: event.data.token,
          received: [],
        });
        break;
      case "hook_received": {
        // The wait ends with the first payload; later ones are listed with their times.
        const hook = waits.get(event.data.hookId);
        hook?.received?.push(at);
        if (hook !== undefined && hook.endedAt === null)
          Object.assign(hook, { endedAt: at, outcome: "completed" });
        break;
      }
      case "hook_disposed":
        endWait(event.data.hookId, at, "disposed");
        break;
      case "run_completed":
        timeline.output = show(event);
        interrupt(at);
        break;
      case "run_failed":
        timeline.error = show(event);
        interrupt(at);
        break;
      case "run_cancelled":
        interrupt(at, event.data.reason === "restart" ? false : undefined);
        break;
      default:
        break;
    }
  }
  timeline.waits = [...waits.values()];
  return timeline;
}
