/**
 * The trace a run starts in (OpenTelemetry, docs/tracing.md). `start()` opens a `start <workflow>`
 * span per run in the caller's active context and records that span's W3C trace context with the
 * run (`CreateRunInput.traceparent`, kept in its `run_created`), so every worker that drives the
 * run, in any process, emits its spans in the caller's trace, under that span. Without a
 * registered tracer provider the caller's active span context, if any, is recorded instead; with
 * neither, nothing is, and the run's spans share a trace derived from the run (`runtime/tracing.ts`).
 * Without `@opentelemetry/api` this does nothing at all.
 */
import { formatTraceparent, registeredTracer, shortName, tracingApi } from "../runtime/tracing.ts";
import type { CreatedRun, CreateRunInput } from "../world/types.ts";

/** Ends the start spans: with the runs created, or the error that created none. */
export type EndStartSpans = (outcome: { created: readonly CreatedRun[] } | { error: unknown }) => void;

/**
 * Gives each run of `inputs` the trace context it starts in (see the file header); returns what
 * ends their spans once `runs.createMany` answered, or undefined when there are none to end.
 */
export function traceStarts(workflowId: string, inputs: CreateRunInput[]): EndStartSpans | undefined {
  const api = tracingApi();
  if (api === undefined) return undefined;
  const active = api.context.active();
  const tracer = registeredTracer();
  if (tracer === undefined) {
    // No provider here: a context the caller carries (propagated to it) still joins the run to it.
    const context = api.trace.getSpanContext(active);
    if (context === undefined || !api.trace.isSpanContextValid(context)) return undefined;
    const traceparent = formatTraceparent(context.traceId, context.spanId, context.traceFlags);
    const tracestate = context.traceState?.serialize();
    for (const input of inputs) {
      input.traceparent = traceparent;
      if (tracestate) input.tracestate = tracestate;
    }
    return undefined;
  }
  const spans = inputs.map((input) => {
    const span = tracer.startSpan(
      `start ${shortName(workflowId)}`,
      {
        kind: api.SpanKind.PRODUCER,
        attributes: { "stepwise.run.id": input.runId, "stepwise.workflow.name": workflowId },
      },
      active,
    );
    const context = span.spanContext();
    if (api.trace.isSpanContextValid(context)) {
      input.traceparent = formatTraceparent(context.traceId, context.spanId, context.traceFlags);
      const tracestate = context.traceState?.serialize();
      if (tracestate) input.tracestate = tracestate;
    }
    return span;
  });
  return (outcome) => {
    spans.forEach((span, index) => {
      if ("error" in outcome) {
        const error = outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error));
        span.recordException(error);
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: `${error.name}: ${error.message}` });
      } else {
        // An id reused: the run existed already, and keeps the trace it was started in.
        span.setAttribute("stepwise.run.created", outcome.created[index]?.created ?? false);
      }
      span.end();
    });
  };
}
