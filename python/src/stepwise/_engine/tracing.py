"""OpenTelemetry for Python runs and starts (docs/tracing.md; src/runtime/tracing.ts and
run-trace.ts in TypeScript). With `opentelemetry-api` installed (`stepwise-workflows[otel]`) and
a tracer provider set, each step attempt runs inside a span that is the current span in the step
body, a child of the run's trace context: the W3C `traceparent` its `run_created` event records
(the caller's context at `start()`, from TypeScript or Python), or, for a run started without
one, a root derived from the run's id and creation time exactly as the TypeScript engine derives
it. So a Python step joins the trace of the run, whichever language started it. From the events
each append commits, the worker also emits the spans of sleeps, event waits, hook waits and the
run itself, with their recorded start and end times, as the TypeScript worker does. Without the
package, or without a provider, nothing here costs more than one check per attempt and append.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .._serde import places
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


#: The tracer of the provider it came from, reused while that provider is the global one.
_tracer: tuple[object, Tracer] | None = None


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

    global _tracer
    provider = trace.get_tracer_provider()
    # Until the application sets one, the global provider is a proxy (or the no-op one).
    if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
        return None
    # One tracer per provider (the SDK makes a new one on every get_tracer; this runs per attempt).
    if _tracer is None or _tracer[0] is not provider:
        _tracer = (provider, provider.get_tracer(TRACER_NAME))
    return _tracer[1]


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


@dataclass(slots=True)
class _RunTrace:
    """A traced run's state: its trace context, and when its generation and its open waits began."""

    traceparent: str
    tracestate: str | None
    #: When the current generation began: the run's creation, or its latest restart.
    since: int
    generation: int = 1
    #: Open sleeps: wait id -> (since, resume_at).
    sleeps: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: Open event waits: wait id -> (since, event type).
    event_waits: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: Listening hooks: hook id -> (waiting for a payload since, kind).
    hooks: dict[str, tuple[int, str]] = field(default_factory=dict)


#: Each traced machine's state (`trace_run`), kept while the machine lives.
_traces: weakref.WeakKeyDictionary[RunMachine, _RunTrace] = weakref.WeakKeyDictionary()


def trace_run(machine: RunMachine, events: Sequence[LoggedEvent]) -> None:
    """Keeps the trace state of `machine`'s run, read from the log it was replayed from (the
    worker calls it after each replay); nothing without `opentelemetry-api`."""
    if not available():
        return
    run = machine.run
    state = _RunTrace(derived_traceparent(run.run_id, run.created_at), None, run.created_at)
    _traces[machine] = state
    for event in events:
        _observe(machine, state, event, emit=False)


def observing(machine: RunMachine) -> bool:
    """Whether `committed` needs the events an append stored (the run is traced)."""
    return machine in _traces


def committed(machine: RunMachine, events: Sequence[LoggedEvent]) -> None:
    """The events an append committed: the waits and the run they end are emitted as spans."""
    state = _traces.get(machine)
    if state is None:
        return
    for event in events:
        _observe(machine, state, event, emit=True)


def _observe(machine: RunMachine, state: _RunTrace, event: LoggedEvent, *, emit: bool) -> None:
    """Follows one event of the log (src/runtime/run-trace.ts `observe`, in Python)."""
    data, at = event.data, event.created_at
    kind = event.type
    if kind == "run_created":
        traceparent, tracestate = data.get("traceparent"), data.get("tracestate")
        if isinstance(traceparent, str) and parse_traceparent(traceparent) is not None:
            state.traceparent = traceparent
            state.tracestate = tracestate if isinstance(tracestate, str) else None
        state.since = at
    elif kind == "run_restarted":
        generation = data.get("generation")
        state.generation = generation if isinstance(generation, int) else state.generation + 1
        state.since = at
    elif kind == "wait_created":
        resume_at = data.get("resumeAt")
        state.sleeps[str(data.get("waitId"))] = (at, resume_at if isinstance(resume_at, int) else at)
    elif kind == "wait_completed":
        sleep = state.sleeps.pop(str(data.get("waitId")), None)
        if emit and sleep is not None:
            _emit_sleep(machine, state, str(data.get("waitId")), sleep, at, "completed")
    elif kind == "event_wait_created":
        state.event_waits[str(data.get("waitId"))] = (at, str(data.get("eventType")))
    elif kind in ("event_received", "event_wait_timed_out"):
        wait = state.event_waits.pop(str(data.get("waitId")), None)
        outcome = "received" if kind == "event_received" else "timed_out"
        if emit and wait is not None:
            _emit_event_wait(machine, state, str(data.get("waitId")), wait, at, outcome)
    elif kind == "hook_created":
        state.hooks[str(data.get("hookId"))] = (at, str(data.get("kind", "hook")))
    elif kind == "hook_received":
        hook_id = str(data.get("hookId"))
        hook = state.hooks.get(hook_id)
        if hook is None:
            return
        if emit:
            attributes: dict[str, str | int] = {
                "stepwise.hook.id": hook_id,
                "stepwise.wait.kind": hook[1],
                "stepwise.wait.outcome": "received",
            }
            span = _emit(machine, state, "webhook" if hook[1] == "webhook" else "hook", hook[0], attributes)
            if span is not None:
                span.end(end_time=max(hook[0], at) * 1_000_000)
        # The next payload is waited for from here.
        state.hooks[hook_id] = (at, hook[1])
    elif kind in ("hook_disposed", "hook_conflict"):
        state.hooks.pop(str(data.get("hookId")), None)
    elif kind in ("run_completed", "run_failed", "run_cancelled"):
        if emit:
            _emit_end(machine, state, event)
        state.sleeps.clear()
        state.event_waits.clear()
        state.hooks.clear()


def _emit(
    machine: RunMachine,
    state: _RunTrace,
    name: str,
    since: int,
    attributes: dict[str, str | int],
    *,
    consumer: bool = False,
) -> Span | None:
    """Starts a span of the run at a recorded time (ms), if a tracer is set; the caller ends it at
    the recorded time of its end."""
    tracer = registered_tracer()
    if tracer is None:
        return None
    from opentelemetry.trace import SpanKind

    span = tracer.start_span(
        name,
        context=_context_of(state.traceparent, state.tracestate),
        kind=SpanKind.CONSUMER if consumer else SpanKind.INTERNAL,
        attributes={"stepwise.run.id": machine.run.run_id, "stepwise.workflow.name": machine.run.workflow_name, **attributes},
        start_time=since * 1_000_000,
    )
    return span


def _emit_sleep(machine: RunMachine, state: _RunTrace, wait_id: str, sleep: tuple[int, int], at: int, outcome: str) -> None:
    since, until = sleep
    attributes: dict[str, str | int] = {
        "stepwise.wait.id": wait_id,
        "stepwise.wait.kind": "sleep",
        "stepwise.wait.outcome": outcome,
        "stepwise.sleep.until": _iso(until),
    }
    span = _emit(machine, state, "sleep", since, attributes)
    if span is not None:
        span.end(end_time=max(since, at) * 1_000_000)


def _emit_event_wait(
    machine: RunMachine, state: _RunTrace, wait_id: str, wait: tuple[int, str], at: int, outcome: str
) -> None:
    since, event_type = wait
    attributes: dict[str, str | int] = {
        "stepwise.wait.id": wait_id,
        "stepwise.wait.kind": "event",
        "stepwise.wait.outcome": outcome,
        "stepwise.event.type": event_type,
    }
    span = _emit(machine, state, f"waitForEvent {event_type}", since, attributes)
    if span is not None:
        span.end(end_time=max(since, at) * 1_000_000)


def _emit_end(machine: RunMachine, state: _RunTrace, event: LoggedEvent) -> None:
    """The run's span, from its creation (or restart) to its end; waits left open end with it."""
    at = event.created_at
    for wait_id, sleep in list(state.sleeps.items()):
        _emit_sleep(machine, state, wait_id, sleep, at, "cancelled")
    for wait_id, wait in list(state.event_waits.items()):
        _emit_event_wait(machine, state, wait_id, wait, at, "cancelled")
    attributes: dict[str, str | int] = {
        "stepwise.run.status": event.type.removeprefix("run_"),
        "stepwise.run.generation": state.generation,
    }
    reason = event.data.get("reason")
    if isinstance(reason, str):
        attributes["stepwise.run.reason"] = reason
    name = f"run {short_name(machine.run.workflow_name)}"
    span = _emit(machine, state, name, state.since, attributes, consumer=True)
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    if event.type == "run_completed":
        span.set_status(Status(StatusCode.OK))
    elif event.type == "run_failed":
        error: BaseException
        try:
            if event.payload is None:
                raise ValueError("no payload")
            error = machine.codec.error_from(machine.payloads.open(places.RUN_ERROR, event.payload))
        except Exception:
            error = RuntimeError(f"the workflow failed{'' if reason is None else f' ({reason})'}")
        _record_error(span, error)
    span.end(end_time=max(state.since, at) * 1_000_000)


def _iso(ms: int) -> str:
    """An epoch-ms time as ISO 8601 with milliseconds, as JavaScript's `toISOString` writes it."""
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _context_of(traceparent: str, tracestate: str | None) -> Context:
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

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


def _parent(machine: RunMachine) -> Context:
    state = _traces.get(machine)
    if state is None:
        return _context_of(derived_traceparent(machine.run.run_id, machine.run.created_at), None)
    return _context_of(state.traceparent, state.tracestate)


def _record_error(span: Span, error: BaseException) -> None:
    """Records `error` on `span` (its Stepwise name as the type) and sets the status to error."""
    from opentelemetry.trace import Status, StatusCode

    name = getattr(error, "name", None) or type(error).__name__
    span.record_exception(error, attributes={"exception.type": str(name)})
    span.set_status(Status(StatusCode.ERROR, f"{name}: {error}"))


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
    _record_error(span, error)


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
