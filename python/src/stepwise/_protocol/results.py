"""The answers of the worker protocol that carry more than one field, as frozen dataclasses.

Answers with a single field (`{"run": …}`, `{"events": […]}`) are unwrapped by the client to the
record or tuple they hold; the ones here keep their fields together (`AppendResult`, `RunPage`…).
"""

from __future__ import annotations

from dataclasses import dataclass

from .records import (
    AuditEntry,
    EventRecord,
    InboxItem,
    RunRecord,
    RunStatus,
    StreamChunk,
    StreamInfo,
    run_status,
)
from .wire import JsonObject, as_obj, opt_bool, opt_str, req_bool, req_int, req_list, req_obj, req_str


@dataclass(frozen=True, slots=True)
class CreatedRun:
    """A run and whether this call created it (`runs/create` is idempotent on the run id)."""

    run: RunRecord
    created: bool

    @classmethod
    def from_wire(cls, obj: JsonObject) -> CreatedRun:
        """Decodes the answer's JSON."""
        return cls(RunRecord.from_wire(req_obj(obj, "run")), req_bool(obj, "created"))


@dataclass(frozen=True, slots=True)
class RunPage:
    """One page of `runs/list`; pass `next_cursor` for the next (None: the last page)."""

    items: tuple[RunRecord, ...]
    next_cursor: str | None

    @classmethod
    def from_wire(cls, obj: JsonObject) -> RunPage:
        """Decodes the answer's JSON."""
        return cls(
            tuple(RunRecord.from_wire(as_obj(r, "items")) for r in req_list(obj, "items")),
            opt_str(obj, "nextCursor"),
        )


@dataclass(frozen=True, slots=True)
class AcquireResult:
    """`runs/acquire`: whether the caller now holds the run's lease, and the run."""

    acquired: bool
    run: RunRecord

    @classmethod
    def from_wire(cls, obj: JsonObject) -> AcquireResult:
        """Decodes the answer's JSON."""
        return cls(req_bool(obj, "acquired"), RunRecord.from_wire(req_obj(obj, "run")))


@dataclass(frozen=True, slots=True)
class PickUpResult:
    """`runs/pick-up`: the lease outcome, the run, and (when acquired and not ended) its log and inbox.

    `events` is None when the run was not acquired, has ended, or its seq was the `known_seq` asked
    with (the caller's log is current); `inbox` is None when the run was not acquired or has ended.
    """

    acquired: bool
    run: RunRecord
    events: tuple[EventRecord, ...] | None
    inbox: tuple[InboxItem, ...] | None

    @classmethod
    def from_wire(cls, obj: JsonObject) -> PickUpResult:
        """Decodes the answer's JSON."""
        events = obj.get("events")
        inbox = obj.get("inbox")
        return cls(
            acquired=req_bool(obj, "acquired"),
            run=RunRecord.from_wire(req_obj(obj, "run")),
            events=None
            if events is None
            else tuple(EventRecord.from_wire(as_obj(e, "events")) for e in req_list(obj, "events")),
            inbox=None
            if inbox is None
            else tuple(InboxItem.from_wire(as_obj(i, "inbox")) for i in req_list(obj, "inbox")),
        )


@dataclass(frozen=True, slots=True)
class ImportResult:
    """`runs/import`: the run, and whether this call wrote it."""

    run: RunRecord
    imported: bool

    @classmethod
    def from_wire(cls, obj: JsonObject) -> ImportResult:
        """Decodes the answer's JSON."""
        return cls(RunRecord.from_wire(req_obj(obj, "run")), req_bool(obj, "imported"))


@dataclass(frozen=True, slots=True)
class AppendedRun:
    """The run after an append: its status, new seq and bytes used."""

    run_id: str
    status: RunStatus
    seq: int
    payload_bytes: int

    @classmethod
    def from_wire(cls, obj: JsonObject) -> AppendedRun:
        """Decodes the answer's JSON."""
        return cls(req_str(obj, "runId"), run_status(obj), req_int(obj, "seq"), req_int(obj, "payloadBytes"))


@dataclass(frozen=True, slots=True)
class AppendResult:
    """`events/append`: the new last seq, the events as stored, and the lease outcome.

    `lease_released` is set when the append asked to release the lease: False means someone asked
    for the run meanwhile (look again).
    """

    seq: int
    events: tuple[EventRecord, ...]
    lease_released: bool | None
    run: AppendedRun

    @classmethod
    def from_wire(cls, obj: JsonObject) -> AppendResult:
        """Decodes the answer's JSON."""
        return cls(
            seq=req_int(obj, "seq"),
            events=tuple(EventRecord.from_wire(as_obj(e, "events")) for e in req_list(obj, "events")),
            lease_released=opt_bool(obj, "leaseReleased"),
            run=AppendedRun.from_wire(req_obj(obj, "run")),
        )


@dataclass(frozen=True, slots=True)
class StreamRead:
    """`streams/read`: the chunks read (maybe none) and the stream's info."""

    chunks: tuple[StreamChunk, ...]
    info: StreamInfo

    @classmethod
    def from_wire(cls, obj: JsonObject) -> StreamRead:
        """Decodes the answer's JSON."""
        return cls(
            tuple(StreamChunk.from_wire(as_obj(c, "chunks")) for c in req_list(obj, "chunks")),
            StreamInfo.from_wire(req_obj(obj, "info")),
        )


@dataclass(frozen=True, slots=True)
class RewriteResult:
    """`payloads/rewrite`: how many slots were rewritten and how many skipped (bytes had moved on)."""

    rewritten: int
    skipped: int

    @classmethod
    def from_wire(cls, obj: JsonObject) -> RewriteResult:
        """Decodes the answer's JSON."""
        return cls(req_int(obj, "rewritten"), req_int(obj, "skipped"))


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of `audit/list`, newest first; pass `next_cursor` for the next."""

    items: tuple[AuditEntry, ...]
    next_cursor: str | None

    @classmethod
    def from_wire(cls, obj: JsonObject) -> AuditPage:
        """Decodes the answer's JSON."""
        return cls(
            tuple(AuditEntry.from_wire(as_obj(a, "items")) for a in req_list(obj, "items")),
            opt_str(obj, "nextCursor"),
        )
