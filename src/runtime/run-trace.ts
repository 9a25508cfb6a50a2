/**
 * A run's spans, made by the worker that drives it (docs/architecture.md §3 "Tracing"). Every span
 * is a child of the run's trace context (its `run_created`'s `traceparent`, or a root derived from
 * the run): a span per step attempt, started when the attempt executes and active inside the step
 * body, so the user's spans and instrumented I/O nest under it; and, from the events each append
 * commits, a span per sleep, event wait and hook wait, and the run's own span, each emitted when
 * it ends with the recorded times of its start and end — whichever process recorded the start. The
 * state needed for that (when each open wait began) is read from the log when the run is replayed
 * and kept with its machine while the worker holds it (`traceRun`, `runTraceOf`).
 */
import type * as Otel from "@opentelemetry/api";
import { StepAbortedError } from "../errors/step.ts";
import { decodeValue } from "../serde/codec.ts";
import { places } from "../serde/places.ts";
import type { EventRecord } from "../world/events.ts";
import type { Clock } from "./clock.ts";
import type { StepOutcome } from "./executor.ts";
import type { RunMachine, StepTask } from "./machine.ts";
import {
  derivedTraceparent,
  type OtelApi,
  parseTraceparent,
  registeredTracer,
  shortName,
  tracingApi,
} from "./tracing.ts";

/** A hook the workflow listens on, and since when it waits for its next payload. */
interface OpenHook {
  since: number;
  kind: string;
}

const traces = new WeakMap<RunMachine, RunTrace>();

/**
 * Keeps the trace state of `machine`, read from `events` (the log it was replayed from), when the
 * OpenTelemetry API is loaded; nothing otherwise. The worker calls it after each replay.
 */
export function traceRun(machine: RunMachine, events: readonly EventRecord[], clock: Clock): void {
  const api = tracingApi();
  if (api === undefined) return;
  const trace = new RunTrace(api, machine, clock);
  for (const event of events) trace.observe(event, false);
  traces.set(machine, trace);
}

/** The trace state `traceRun` kept for `machine`, if any. */
export function runTraceOf(machine: RunMachine): RunTrace | undefined {
  return traces.get(machine);
}

export class RunTrace {
  readonly #api: OtelApi;
  readonly #machine: RunMachine;
  readonly #clock: Clock;
  /** The run's trace context, as the parent of every span. */
  #parent: Otel.Context;
  /** When the current generation began: the run's creation, or its latest restart. */
  #since: number;
  #generation = 1;
  readonly #sleeps = new Map<string, { since: number; until: number }>();
  readonly #eventWaits = new Map<string, { since: number; eventType: string }>();
  readonly #hooks = new Map<string, OpenHook>();

  constructor(api: OtelApi, machine: RunMachine, clock: Clock) {
    this.#api = api;
    this.#machine = machine;
    this.#clock = clock;
    this.#since = machine.run.createdAt;
    this.#parent = this.#contextOf(undefined, undefined);
  }

  /** The parent context for `traceparent` (the run's own root when it is absent or malformed). */
  #contextOf(traceparent: string | undefined, tracestate: string | undefined): Otel.Context {
    const api = this.#api;
    const { runId, createdAt } = this.#machine.run;
    const parsed = parseTraceparent(traceparent) ?? parseTraceparent(derivedTraceparent(runId, createdAt));
    if (parsed === undefined) return api.ROOT_CONTEXT;
    const spanContext: Otel.SpanContext = {
      traceId: parsed.traceId,
      spanId: parsed.spanId,
      traceFlags: parsed.flags,
      isRemote: true,
    };
    if (tracestate !== undefined && api.createTraceState !== undefined)
      spanContext.traceState = api.createTraceState(tracestate);
    return api.trace.setSpanContext(api.ROOT_CONTEXT, spanContext);
  }

  /** The attributes every span of the run carries. */
  #runAttributes(): Otel.Attributes {
    return {
      "stepwise.run.id": this.#machine.run.runId,
      "stepwise.workflow.name": this.#machine.run.workflowName,
    };
  }

  /**
   * Runs `execute` (one attempt of `step`) inside its span, the active context for the step body,
   * and ends the span with the attempt's outcome. Without a registered tracer it just runs it.
   */
  async attempt(
    step: StepTask,
    signal: AbortSignal,
    execute: () => Promise<StepOutcome>,
  ): Promise<StepOutcome> {
    const tracer = registeredTracer();
    if (tracer === undefined) return execute();
    const api = this.#api;
    const span = tracer.startSpan(
      `step ${shortName(step.name)}`,
      {
        kind: api.SpanKind.INTERNAL,
        attributes: {
          ...this.#runAttributes(),
          "stepwise.step.name": step.name,
          "stepwise.step.id": step.id,
          "stepwise.step.attempt": step.attempt,
        },
      },
      this.#parent,
    );
    try {
      const outcome = await api.context.with(api.trace.setSpan(this.#parent, span), execute);
      this.#endAttempt(span, outcome, signal);
      return outcome;
    } catch (error) {
      span.setAttribute("stepwise.step.outcome", "error");
      this.#recordError(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  #endAttempt(span: Otel.Span, outcome: StepOutcome, signal: AbortSignal): void {
    if (outcome.ok) {
      span.setAttribute("stepwise.step.outcome", "completed");
      span.setStatus({ code: this.#api.SpanStatusCode.OK });
      return;
    }
    const reason = signal.reason as unknown;
    if (StepAbortedError.is(reason) && reason.reason !== "timeout") {
      // Told to stop (cancelled, paused, shutdown, lease lost): no outcome of its own.
      span.setAttribute("stepwise.step.outcome", "aborted");
      span.setAttribute("stepwise.step.abort_reason", reason.reason);
      return;
    }
    const { decision } = outcome;
    if (decision.retry) {
      span.setAttribute("stepwise.step.outcome", "retrying");
      span.setAttribute("stepwise.step.retry_delay_ms", Math.max(0, decision.retryAt - this.#clock.now()));
      span.setAttribute("stepwise.step.retry_at", new Date(decision.retryAt).toISOString());
    } else {
      span.setAttribute("stepwise.step.outcome", "failed");
      span.setAttribute("stepwise.step.fatal", decision.fatal);
    }
    let error: unknown;
    try {
      error = decodeValue(outcome.error);
    } catch {
      error = new Error("the step failed (its error could not be decoded)");
    }
    this.#recordError(span, error);
  }

  #recordError(span: Otel.Span, error: unknown): void {
    // Name, message and stack only: the SDK would take a Stepwise error's `code` for its type.
    const value: { name: string; message: string; stack?: string } =
      error instanceof Error
        ? { name: error.name, message: error.message }
        : { name: "Error", message: typeof error === "string" ? error : (JSON.stringify(error) ?? "") };
    if (error instanceof Error && error.stack !== undefined) value.stack = error.stack;
    span.recordException(value);
    span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: `${value.name}: ${value.message}` });
  }

  /** The events an append committed: the waits and the run they end are emitted as spans. */
  committed(events: readonly EventRecord[]): void {
    for (const event of events) this.observe(event, true);
  }

  /**
   * Follows one event of the log: waits opening and closing, the run's generations. With `emit`
   * (an event this worker just committed) a span that it ends is emitted.
   */
  observe(event: EventRecord, emit: boolean): void {
    const at = event.createdAt;
    switch (event.type) {
      case "run_created":
        this.#parent = this.#contextOf(event.data.traceparent, event.data.tracestate);
        this.#since = at;
        return;
      case "run_restarted":
        this.#generation = event.data.generation;
        this.#since = at;
        return;
      case "wait_created":
        this.#sleeps.set(event.data.waitId, { since: at, until: event.data.resumeAt });
        return;
      case "wait_completed": {
        const sleep = this.#sleeps.get(event.data.waitId);
        this.#sleeps.delete(event.data.waitId);
        if (emit && sleep !== undefined) this.#emitSleep(event.data.waitId, sleep, at, "completed");
        return;
      }
      case "event_wait_created":
        this.#eventWaits.set(event.data.waitId, { since: at, eventType: event.data.eventType });
        return;
      case "event_received":
      case "event_wait_timed_out": {
        const wait = this.#eventWaits.get(event.data.waitId);
        this.#eventWaits.delete(event.data.waitId);
        const outcome = event.type === "event_received" ? "received" : "timed_out";
        if (emit && wait !== undefined) this.#emitEventWait(event.data.waitId, wait, at, outcome);
        return;
      }
      case "hook_created":
        this.#hooks.set(event.data.hookId, { since: at, kind: event.data.kind });
        return;
      case "hook_received": {
        const hook = this.#hooks.get(event.data.hookId);
        if (hook === undefined) return;
        if (emit) this.#emitHook(event.data.hookId, hook, at);
        // The next payload is waited for from here.
        hook.since = at;
        return;
      }
      case "hook_disposed":
      case "hook_conflict":
        this.#hooks.delete(event.data.hookId);
        return;
      case "run_completed":
      case "run_failed":
      case "run_cancelled":
        if (emit) this.#emitEnd(event);
        this.#sleeps.clear();
        this.#eventWaits.clear();
        this.#hooks.clear();
        return;
      default:
        return;
    }
  }

  /** The error a run failed with, read from its `run_failed` payload (a stand-in if it cannot be read). */
  #runError(payload: Uint8Array | undefined, reason: string | undefined): unknown {
    const machine = this.#machine;
    try {
      if (payload !== undefined)
        return decodeValue(machine.payloads.decode(machine.scope, places.runError, payload));
    } catch {
      // Unreadable here: the stand-in below says so.
    }
    return new Error(`the workflow failed${reason === undefined ? "" : ` (${reason})`}`);
  }

  /** Starts and ends a span over recorded times (a wait, the run), if a tracer is registered. */
  #emit(
    name: string,
    since: number,
    until: number,
    attributes: Otel.Attributes,
    finish?: (span: Otel.Span) => void,
    kind?: Otel.SpanKind,
  ): void {
    const tracer = registeredTracer();
    if (tracer === undefined) return;
    const span = tracer.startSpan(
      name,
      {
        kind: kind ?? this.#api.SpanKind.INTERNAL,
        startTime: since,
        attributes: { ...this.#runAttributes(), ...attributes },
      },
      this.#parent,
    );
    finish?.(span);
    span.end(Math.max(since, until));
  }

  #emitSleep(waitId: string, sleep: { since: number; until: number }, at: number, outcome: string): void {
    this.#emit("sleep", sleep.since, at, {
      "stepwise.wait.id": waitId,
      "stepwise.wait.kind": "sleep",
      "stepwise.wait.outcome": outcome,
      "stepwise.sleep.until": new Date(sleep.until).toISOString(),
    });
  }

  #emitEventWait(
    waitId: string,
    wait: { since: number; eventType: string },
    at: number,
    outcome: string,
  ): void {
    this.#emit(`waitForEvent ${wait.eventType}`, wait.since, at, {
      "stepwise.wait.id": waitId,
      "stepwise.wait.kind": "event",
      "stepwise.wait.outcome": outcome,
      "stepwise.event.type": wait.eventType,
    });
  }

  #emitHook(hookId: string, hook: OpenHook, at: number): void {
    this.#emit(hook.kind === "webhook" ? "webhook" : "hook", hook.since, at, {
      "stepwise.hook.id": hookId,
      "stepwise.wait.kind": hook.kind,
      "stepwise.wait.outcome": "received",
    });
  }

  /** The run's span, from its creation (or restart) to the event that ended it; waits left open end with it. */
  #emitEnd(event: Extract<EventRecord, { type: "run_completed" | "run_failed" | "run_cancelled" }>): void {
    const at = event.createdAt;
    for (const [waitId, sleep] of this.#sleeps) this.#emitSleep(waitId, sleep, at, "cancelled");
    for (const [waitId, wait] of this.#eventWaits) this.#emitEventWait(waitId, wait, at, "cancelled");
    const status = event.type.slice("run_".length);
    const api = this.#api;
    const attributes: Otel.Attributes = {
      "stepwise.run.status": status,
      "stepwise.run.generation": this.#generation,
    };
    const reason = "reason" in event.data ? event.data.reason : undefined;
    if (reason !== undefined) attributes["stepwise.run.reason"] = reason;
    this.#emit(
      `run ${shortName(this.#machine.run.workflowName)}`,
      this.#since,
      at,
      attributes,
      (span) => {
        if (event.type === "run_failed") this.#recordError(span, this.#runError(event.payload, reason));
        else if (event.type === "run_completed") span.setStatus({ code: api.SpanStatusCode.OK });
      },
      api.SpanKind.CONSUMER,
    );
  }
}
