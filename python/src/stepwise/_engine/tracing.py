"""OpenTelemetry for Python steps and starts (docs/tracing.md; src/runtime/tracing.ts and
run-trace.ts in TypeScript). With `opentelemetry-api` installed (`stepwise-workflows[otel]`) and
a tracer provider set, each step attempt runs inside a span that is the current span in the step
body, a child of the run's trace context: the W3C `traceparent` its `run_created` event records
(the caller's context at `start()`, from TypeScript or Python), or, for a run started without
one, a root derived from the run's id and creation time exactly as the TypeScript engine derives
it. So a Python step joins the trace of the run, whichever language started it. Without the
package, or without a provider, nothing here costs more than one check per attempt.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .events import LoggedEvent
from .executor import StepOutcome
from .machine import RunMachine, StepTask
from .ports import ValueCodec

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, Tracer

#: The instrumentation scope of every span Stepwise makes.
TRACER_NAME = "stepwise-workflows"

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")

_available: bool | None = None


def available() -> bool:
    """Whether `opentelemetry-api` can be imported (tried once per process)."""
    global _available
    if _available is None:
        try:
            import opentelemetry.trace  # noqa: F401
        except ImportError:
            _available = False
        else:
            _available = True
    return _available


def registered_tracer() -> Tracer | None:
    """Stepwise's tracer while a tracer provider is set; None otherwise (or without the package)."""
    if not available():
        return None
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    # Until the application sets one, the global provider is a proxy (or the no-op one).
    if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
        return None
    return provider.get_tracer(TRACER_NAME)


def parse_traceparent(text: object) -> tuple[str, str, int] | None:
    """Trace id, parent span id and flags of a W3C `traceparent`; None when it is malformed."""
    if not isinstance(text, str):
        return None
    match = _TRACEPARENT.match(text)
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if int(trace_id, 16) == 0 or int(span_id, 16) == 0:
        return None
    return trace_id, span_id, int(flags, 16)


def format_traceparent(trace_id: int, span_id: int, flags: int) -> str:
    """A version-00 `traceparent`."""
    return f"00-{trace_id:032x}-{span_id:016x}-{flags & 0xFF:02x}"


def derived_traceparent(run_id: str, created_at: int) -> str:
    """The trace of a run started without a trace context: SHA-256 of
    `stepwise-trace:<run_id>:<created_at>` gives the trace id and the parent span id, sampled —
    the same in every process and language (src/runtime/tracing.ts)."""
    digest = hashlib.sha256(f"stepwise-trace:{run_id}:{created_at}".encode()).hexdigest()
    trace_id = int(digest[:32], 16) or 1
    span_id = int(digest[32:48], 16) or 1
    return format_traceparent(trace_id, span_id, 1)


def short_name(ident: str) -> str:
    """The short name of a workflow or step id (`step//mod//charge` is `charge`)."""
    at = ident.rfind("//")
    return ident if at == -1 else ident[at + 2 :]


#: Each traced machine's trace context: (traceparent, tracestate).
_contexts: weakref.WeakKeyDictionary[RunMachine, tuple[str, str | None]] = weakref.WeakKeyDictionary()


def trace_run(machine: RunMachine, events: Sequence[LoggedEvent]) -> None:
    """Keeps the trace context of `machine`'s run, read from its log's `run_created` (the worker
    calls it after each replay); nothing without `opentelemetry-api`."""
    if not available():
        return
    data: Mapping[str, object] = events[0].data if events and events[0].type == "run_created" else {}
    traceparent = data.get("traceparent")
    tracestate = data.get("tracestate")
    if parse_traceparent(traceparent) is None or not isinstance(traceparent, str):
        traceparent = derived_traceparent(machine.run.run_id, machine.run.created_at)
        tracestate = None
    _contexts[machine] = (traceparent, tracestate if isinstance(tracestate, str) else None)


def _parent(machine: RunMachine) -> Context:
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

    traceparent, tracestate = _contexts.get(machine) or (
        derived_traceparent(machine.run.run_id, machine.run.created_at),
        None,
    )
    parsed = parse_traceparent(traceparent)
    assert parsed is not None
    trace_id, span_id, flags = parsed
    state = TraceState.from_header([tracestate]) if tracestate else None
    context = SpanContext(
        trace_id=int(trace_id, 16),
        span_id=int(span_id, 16),
        is_remote=True,
        trace_flags=TraceFlags(flags),
        trace_state=state,
    )
    return trace.set_span_in_context(NonRecordingSpan(context))


@contextmanager
def attempt_span(machine: RunMachine, step: StepTask) -> Iterator[Span | None]:
    """The span of one attempt of `step`, current inside the block (so inside the step body);
    None without a tracer. End it with `end_attempt` before the block exits."""
    tracer = registered_tracer()
    if tracer is None:
        yield None
        return
    from opentelemetry.trace import SpanKind

    attributes: dict[str, str | int] = {
        "stepwise.run.id": machine.run.run_id,
        "stepwise.workflow.name": machine.run.workflow_name,
        "stepwise.step.name": step.name,
        "stepwise.step.id": step.id,
        "stepwise.step.attempt": step.attempt,
    }
    with tracer.start_as_current_span(
        f"step {short_name(step.name)}",
        context=_parent(machine),
        kind=SpanKind.INTERNAL,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException:
            # Cancelled (the run ended, the lease was lost, the worker stops): no outcome of its own.
            span.set_attribute("stepwise.step.outcome", "aborted")
            raise


def end_attempt(span: Span | None, outcome: StepOutcome, now: int, codec: ValueCodec) -> None:
    """Sets the attempt's outcome on its span: completed, retrying (with the delay) or failed, the
    error recorded and the status set to error on failure."""
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    if outcome.ok:
        span.set_attribute("stepwise.step.outcome", "completed")
        span.set_status(Status(StatusCode.OK))
        return
    decision = outcome.decision
    if decision is not None and decision.retry:
        span.set_attribute("stepwise.step.outcome", "retrying")
        span.set_attribute("stepwise.step.retry_delay_ms", max(0, decision.retry_at - now))
    else:
        span.set_attribute("stepwise.step.outcome", "failed")
        span.set_attribute("stepwise.step.fatal", bool(decision is not None and decision.fatal))
    try:
        error = codec.error_from(outcome.text)
    except Exception:
        error = RuntimeError("the step failed (its error could not be decoded)")
    name = getattr(error, "name", None) or type(error).__name__
    span.record_exception(error, attributes={"exception.type": str(name)})
    span.set_status(Status(StatusCode.ERROR, f"{name}: {error}"))


@contextmanager
def start_spans(workflow_name: str, run_ids: Sequence[str]) -> Iterator[list[tuple[str | None, str | None]]]:
    """A `start <workflow>` span per run in the current context, open while the runs are created;
    yields each run's (traceparent, tracestate) to record with it — the span's context, or the
    current span's when no provider is set, or (None, None)."""
    if not available():
        yield [(None, None) for _ in run_ids]
        return
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind

    tracer = registered_tracer()
    if tracer is None:
        current = trace.get_current_span().get_span_context()
        if not current.is_valid:
            yield [(None, None) for _ in run_ids]
            return
        state = current.trace_state.to_header() or None
        parent = format_traceparent(current.trace_id, current.span_id, current.trace_flags)
        yield [(parent, state) for _ in run_ids]
        return
    spans = [
        tracer.start_span(
            f"start {short_name(workflow_name)}",
            kind=SpanKind.PRODUCER,
            attributes={"stepwise.run.id": run_id, "stepwise.workflow.name": workflow_name},
        )
        for run_id in run_ids
    ]
    try:
        contexts: list[tuple[str | None, str | None]] = []
        for span in spans:
            context = span.get_span_context()
            contexts.append(
                (
                    format_traceparent(context.trace_id, context.span_id, context.trace_flags),
                    context.trace_state.to_header() or None,
                )
            )
        yield contexts
    finally:
        for span in spans:
            span.end()
