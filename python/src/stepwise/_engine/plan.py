"""Reads a run's log into a replay plan (src/runtime/replay-plan.ts and generations.ts, in Python).

The plan holds the calls the workflow made, in call order, each with the state the log left it
in, and the outcomes to hand back, in log order. Replaying runs the workflow again, checks each
call against `calls` and delivers `deliveries` one at a time, letting the workflow run until it
waits between them.

A restart (`run_restarted`) begins a new generation that keeps the calls of the previous one
below `fromCall`, with all their recorded outcomes, except hook disposals recorded after the
restart point (the workflow disposes again, or not, as it runs on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .events import OUTCOME_TYPES, TERMINAL_TYPES, LoggedEvent, call_id_of, data_int, data_str

CallKind = Literal["step", "sleep", "event", "hook"]

_CREATIONS = frozenset({"step_started", "wait_created", "event_wait_created", "hook_created", "hook_conflict"})


@dataclass(slots=True)
class PlannedCall:
    """A call the log recorded, with the state the log left it in."""

    kind: CallKind
    id: str
    #: The generation that made the call (its id is derived with it).
    generation: int
    #: The event that recorded the call (for messages: where a replay diverged).
    seq: int
    #: step: its name; event: the event type; hook: the token.
    name: str = ""
    #: step: the last attempt the log started.
    attempt: int = 1
    #: step: running (no outcome yet), retrying or resolved; sleep/event: waiting or resolved.
    status: str = "running"
    retry_at: int | None = None
    #: sleep: when it ends; event: when it times out.
    due_at: int = 0
    webhook: bool = False
    disposed: bool = False
    conflicted: bool = False
    #: step: the stored arguments (its `step_started` of attempt 1), to compare on replay.
    args_payload: bytes | None = None


@dataclass(slots=True)
class ReplayPlan:
    """What a replay checks and delivers: see the module docstring."""

    calls: list[PlannedCall] = field(default_factory=list)
    deliveries: list[LoggedEvent] = field(default_factory=list)
    #: The event that ended the run's current generation, if the log has one.
    terminal: LoggedEvent | None = None
    #: Time of the last event, so a resumed clock never goes back.
    last_event_at: int = 0
    #: The run's current generation (1 before its first restart).
    generation: int = 1
    #: How many calls (the first ones) the current generation kept from earlier ones.
    kept_calls: int = 0
    #: How many deliveries (the first ones) are outcomes kept from earlier generations.
    kept_deliveries: int = 0
    #: The current generation has its `run_started`.
    started: bool = False


@dataclass(slots=True, frozen=True)
class GenerationEvent:
    """An event as the current generation replays it, with the generation that wrote it."""

    event: LoggedEvent
    generation: int


def kept_events(events: list[GenerationEvent], from_call: int) -> list[GenerationEvent]:
    """The events a restart from call index `from_call` keeps (see the module docstring)."""
    if from_call <= 0:
        return []
    index: dict[str, int] = {}
    cut = len(events)
    for position, entry in enumerate(events):
        call_id = call_id_of(entry.event)
        if call_id is None or call_id in index or entry.event.type not in _CREATIONS:
            continue
        if len(index) == from_call and cut == len(events):
            cut = position
        index[call_id] = len(index)
    kept: list[GenerationEvent] = []
    for position, entry in enumerate(events):
        call_id = call_id_of(entry.event)
        call = None if call_id is None else index.get(call_id)
        if call is None or call >= from_call:
            continue
        if position < cut or entry.event.type != "hook_disposed":
            kept.append(entry)
    return kept


def plan_replay(log: list[LoggedEvent]) -> ReplayPlan:
    """The plan of the run's current generation: what it kept from earlier ones, then its own."""
    generation = 1
    carried: list[GenerationEvent] = []
    kept_calls = 0
    own: list[LoggedEvent] = []
    for event in log:
        if event.type == "run_restarted":
            previous = carried + [GenerationEvent(e, generation) for e in own]
            carried = kept_events(previous, data_int(event, "fromCall"))
            kept_calls = data_int(event, "fromCall")
            generation = data_int(event, "generation")
            own = []
            continue
        own.append(event)
    events = carried + [GenerationEvent(e, generation) for e in own]
    plan = plan_events(events, len(carried))
    plan.generation = generation
    plan.kept_calls = kept_calls
    plan.started = any(event.type == "run_started" for event in own)
    for event in log:
        plan.last_event_at = max(plan.last_event_at, event.created_at)
    return plan


def plan_events(events: list[GenerationEvent], kept: int = 0) -> ReplayPlan:
    """Plans `events` (the first `kept` kept from earlier generations) as one stretch of replay."""
    plan = ReplayPlan()
    by_id: dict[str, PlannedCall] = {}

    def add(call: PlannedCall) -> None:
        plan.calls.append(call)
        by_id[call.id] = call

    for position, entry in enumerate(events):
        event = entry.event
        kind = event.type
        if position < kept and kind in OUTCOME_TYPES:
            plan.kept_deliveries += 1
        plan.last_event_at = max(plan.last_event_at, event.created_at)
        plan.generation = entry.generation
        if kind == "step_started":
            step_id = data_str(event, "stepId")
            existing = by_id.get(step_id)
            if existing is not None and existing.kind == "step":
                existing.attempt = data_int(event, "attempt")
                existing.status = "running"
                existing.retry_at = None
            elif existing is None:
                add(
                    PlannedCall(
                        kind="step",
                        id=step_id,
                        generation=entry.generation,
                        seq=event.seq,
                        name=data_str(event, "stepName"),
                        attempt=data_int(event, "attempt"),
                        status="running",
                        args_payload=event.payload,
                    )
                )
        elif kind == "step_retrying":
            call = by_id.get(data_str(event, "stepId"))
            if call is not None and call.kind == "step":
                call.status = "retrying"
                call.retry_at = data_int(event, "retryAt")
        elif kind in ("step_completed", "step_failed"):
            call = by_id.get(data_str(event, "stepId"))
            if call is not None and call.kind == "step":
                call.status = "resolved"
            plan.deliveries.append(event)
        elif kind == "wait_created":
            add(
                PlannedCall(
                    kind="sleep",
                    id=data_str(event, "waitId"),
                    generation=entry.generation,
                    seq=event.seq,
                    due_at=data_int(event, "resumeAt"),
                    status="waiting",
                )
            )
        elif kind == "wait_completed":
            call = by_id.get(data_str(event, "waitId"))
            if call is not None and call.kind == "sleep":
                call.status = "resolved"
            plan.deliveries.append(event)
        elif kind == "event_wait_created":
            add(
                PlannedCall(
                    kind="event",
                    id=data_str(event, "waitId"),
                    generation=entry.generation,
                    seq=event.seq,
                    name=data_str(event, "eventType"),
                    due_at=data_int(event, "timeoutAt"),
                    status="waiting",
                )
            )
        elif kind in ("event_received", "event_wait_timed_out"):
            call = by_id.get(data_str(event, "waitId"))
            if call is not None and call.kind == "event":
                call.status = "resolved"
            plan.deliveries.append(event)
        elif kind == "hook_created":
            add(
                PlannedCall(
                    kind="hook",
                    id=data_str(event, "hookId"),
                    generation=entry.generation,
                    seq=event.seq,
                    name=data_str(event, "token"),
                    webhook=event.data.get("kind") == "webhook",
                )
            )
        elif kind == "hook_conflict":
            add(
                PlannedCall(
                    kind="hook",
                    id=data_str(event, "hookId"),
                    generation=entry.generation,
                    seq=event.seq,
                    name=data_str(event, "token"),
                    disposed=True,
                    conflicted=True,
                )
            )
            plan.deliveries.append(event)
        elif kind == "hook_received":
            plan.deliveries.append(event)
        elif kind == "hook_disposed":
            call = by_id.get(data_str(event, "hookId"))
            if call is not None and call.kind == "hook":
                call.disposed = True
        elif kind in TERMINAL_TYPES:
            plan.terminal = event
        # run_created, run_started, run_restarted, run_upgraded, run_pausing, run_paused,
        # run_resumed, step_unavailable: nothing for the workflow to replay.
    return plan


def delivery_target(event: LoggedEvent) -> str:
    """The call an outcome is for."""
    call_id = call_id_of(event)
    if call_id is None:
        raise ValueError(f"event {event.seq} ({event.type}) is not an outcome of a call")
    return call_id


def describe_call(call: PlannedCall) -> str:
    """A recorded call, for messages."""
    if call.kind == "step":
        return f'step "{call.name}"'
    if call.kind == "sleep":
        return "sleep()"
    if call.kind == "event":
        return f'wait_for_event("{call.name}")'
    return f'a hook on token "{call.name}"'


def describe_id(call_id: str) -> str:
    """What an id names, for messages."""
    if call_id.startswith("step_"):
        return f"step {call_id}"
    if call_id.startswith("wait_"):
        return f"wait {call_id} (a sleep or wait_for_event)"
    return f"hook {call_id}"
