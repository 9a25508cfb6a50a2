"""The events of a run's log as the engine reads and writes them (src/world/events.ts is the list).

`LoggedEvent` is what the engine needs of a stored event, so that the protocol client's records
(and plain test objects) serve; `NewEvent` is an event the engine has decided to append.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Protocol

#: Events that record a call the workflow made (its place in the call order).
CALL_TYPES = frozenset({"step_started", "wait_created", "event_wait_created", "hook_created"})

#: Events that record an outcome handed back to the workflow.
OUTCOME_TYPES = frozenset(
    {
        "step_completed",
        "step_failed",
        "wait_completed",
        "event_received",
        "event_wait_timed_out",
        "hook_received",
        "hook_conflict",
    }
)

#: The statuses of a run that has ended.
TERMINAL_RUN_STATUSES = frozenset({"completed", "failed", "cancelled"})

#: Events that end a run: nothing may follow them in its generation.
TERMINAL_TYPES = frozenset({"run_completed", "run_failed", "run_cancelled"})


class LoggedEvent(Protocol):
    """An event as stored: numbered within its run from 1, with its metadata and payload bytes."""

    @property
    def seq(self) -> int: ...

    @property
    def type(self) -> str: ...

    @property
    def data(self) -> Mapping[str, object]: ...

    @property
    def payload(self) -> bytes | None: ...

    @property
    def created_at(self) -> int: ...


@dataclass(slots=True)
class NewEvent:
    """An event to append: its type, metadata, payload bytes (if the type has one) and time."""

    type: str
    data: dict[str, object] = field(default_factory=dict)
    payload: bytes | None = None
    created_at: int | None = None


@dataclass(slots=True, frozen=True)
class StoredEvent:
    """A plain stored event (tests, and events the engine reads back from what it wrote)."""

    seq: int
    type: str
    data: Mapping[str, object]
    payload: bytes | None
    created_at: int


_STEP_EVENTS = frozenset({"step_started", "step_retrying", "step_completed", "step_failed"})
_WAIT_EVENTS = frozenset(
    {"wait_created", "wait_completed", "event_wait_created", "event_received", "event_wait_timed_out"}
)
_HOOK_EVENTS = frozenset({"hook_created", "hook_conflict", "hook_received", "hook_disposed"})


def call_id_of(event: LoggedEvent) -> str | None:
    """The call (step, wait or hook) an event belongs to, if it belongs to one."""
    if event.type in _STEP_EVENTS:
        return data_str(event, "stepId")
    if event.type in _WAIT_EVENTS:
        return data_str(event, "waitId")
    if event.type in _HOOK_EVENTS:
        return data_str(event, "hookId")
    return None


def data_str(event: LoggedEvent, key: str) -> str:
    """A string field of an event's metadata; a log without it is not one this engine wrote."""
    value = event.data.get(key)
    if not isinstance(value, str):
        raise ValueError(f"event {event.seq} ({event.type}) has no string field {key!r}")
    return value


def data_int(event: LoggedEvent, key: str) -> int:
    """An integer field of an event's metadata (times, attempts, generations)."""
    value = event.data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"event {event.seq} ({event.type}) has no number field {key!r}")
    return int(value)
