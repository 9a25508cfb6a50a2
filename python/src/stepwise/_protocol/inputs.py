"""What callers send in the worker protocol's requests: frozen dataclasses with `to_wire`.

One class per request record of docs/protocol.openapi.json (`CreateRunInput`, `NewEvent`,
`NewMessage`, …), snake_case, bytes as `bytes` (sent as base64). Optional fields left as None
are left out of the request: the protocol never sends null.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .records import AuditActor, EventRecord, InboxItem, InboxKind, RunStatus, StreamChunk
from .wire import JsonObject, b64encode, put


@dataclass(frozen=True, slots=True)
class CreateRunInput:
    """A run to create (`runs/create`): `input` is the payload of the workflow's arguments."""

    run_id: str
    workflow_name: str
    spec_version: int
    seed: str
    encrypted: bool
    input: bytes
    created_at: int | None = None
    bundle_hash: str | None = None

    def to_wire(self) -> JsonObject:
        """The request JSON."""
        body: JsonObject = {
            "runId": self.run_id,
            "workflowName": self.workflow_name,
            "specVersion": self.spec_version,
            "seed": self.seed,
            "encrypted": self.encrypted,
            "input": b64encode(self.input),
        }
        put(body, "createdAt", self.created_at)
        put(body, "bundleHash", self.bundle_hash)
        return body


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: its type, metadata (`data`, plain JSON) and payload bytes."""

    type: str
    data: JsonObject
    payload: bytes | None = None
    created_at: int | None = None

    def to_wire(self) -> JsonObject:
        """The request JSON."""
        body: JsonObject = {"type": self.type, "data": self.data}
        if self.payload is not None:
            body["payload"] = b64encode(self.payload)
        put(body, "createdAt", self.created_at)
        return body


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A queue message to enqueue: look at run `run_id` (`kind`), not before `available_at`."""

    run_id: str
    kind: str
    dedupe_key: str | None = None
    available_at: int | None = None

    def to_wire(self) -> JsonObject:
        """The request JSON."""
        body: JsonObject = {"runId": self.run_id, "kind": self.kind}
        put(body, "dedupeKey", self.dedupe_key)
        put(body, "availableAt", self.available_at)
        return body


@dataclass(frozen=True, slots=True)
class NewInboxItem:
    """An item to deliver to a run (`inbox/put`): a hook payload, an event, a control."""

    run_id: str
    kind: InboxKind
    item_id: str | None = None
    hook_id: str | None = None
    event_type: str | None = None
    generation: int | None = None
    payload: bytes | None = None

    def to_wire(self) -> JsonObject:
        """The request JSON."""
        body: JsonObject = {"runId": self.run_id, "kind": self.kind}
        put(body, "itemId", self.item_id)
        put(body, "hookId", self.hook_id)
        put(body, "eventType", self.event_type)
        put(body, "generation", self.generation)
        if self.payload is not None:
            body["payload"] = b64encode(self.payload)
        return body


@dataclass(frozen=True, slots=True)
class ListRunsFilter:
    """Which runs `runs/list` answers: statuses and workflow names (any of), a creation-time range
    (`created_since` inclusive, `created_before` exclusive, epoch ms), a page size, a cursor."""

    status: Sequence[RunStatus] | None = None
    workflow_name: Sequence[str] | None = None
    created_since: int | None = None
    created_before: int | None = None
    limit: int | None = None
    cursor: str | None = None

    def to_wire(self) -> JsonObject:
        """The request JSON."""
        body: JsonObject = {}
        if self.status is not None:
            body["status"] = list(self.status)
        if self.workflow_name is not None:
            body["workflowName"] = list(self.workflow_name)
        put(body, "createdSince", self.created_since)
        put(body, "createdBefore", self.created_before)
        put(body, "limit", self.limit)
        put(body, "cursor", self.cursor)
        return body


@dataclass(frozen=True, slots=True)
class ImportStream:
    """A stream of an imported run, with its chunks."""

    name: str
    closed: bool
    chunks: Sequence[StreamChunk]

    def to_wire(self) -> JsonObject:
        """The request JSON."""
        return {"name": self.name, "closed": self.closed, "chunks": [c.to_wire() for c in self.chunks]}


@dataclass(frozen=True, slots=True)
class ImportMessage:
    """A queue message of an imported run."""

    kind: str
    available_at: int
    dedupe_key: str | None = None

    def to_wire(self) -> JsonObject:
        """The request JSON."""
        body: JsonObject = {"kind": self.kind, "availableAt": self.available_at}
        put(body, "dedupeKey", self.dedupe_key)
        return body


@dataclass(frozen=True, slots=True)
class ImportRunInput:
    """A run exported from another World (`runs/import`): its log, inbox, streams and messages."""

    run_id: str
    workflow_name: str
    spec_version: int
    seed: str
    encrypted: bool
    events: Sequence[EventRecord]
    inbox: Sequence[InboxItem] | None = None
    streams: Sequence[ImportStream] | None = None
    messages: Sequence[ImportMessage] | None = None

    def to_wire(self) -> JsonObject:
        """The request JSON."""
        body: JsonObject = {
            "runId": self.run_id,
            "workflowName": self.workflow_name,
            "specVersion": self.spec_version,
            "seed": self.seed,
            "encrypted": self.encrypted,
            "events": [e.to_wire() for e in self.events],
        }
        if self.inbox is not None:
            body["inbox"] = [i.to_wire() for i in self.inbox]
        if self.streams is not None:
            body["streams"] = [s.to_wire() for s in self.streams]
        if self.messages is not None:
            body["messages"] = [m.to_wire() for m in self.messages]
        return body


@dataclass(frozen=True, slots=True)
class PayloadSlot:
    """Where a stored payload lives: an event (`seq`), an inbox item, a stream chunk, a hook response."""

    kind: Literal["event", "inbox", "stream", "hookResponse"]
    seq: int | None = None
    item_id: str | None = None
    name: str | None = None
    index: int | None = None
    hook_id: str | None = None

    def to_wire(self) -> JsonObject:
        """The request JSON."""
        body: JsonObject = {"kind": self.kind}
        put(body, "seq", self.seq)
        put(body, "itemId", self.item_id)
        put(body, "name", self.name)
        put(body, "index", self.index)
        put(body, "hookId", self.hook_id)
        return body


@dataclass(frozen=True, slots=True)
class PayloadRewrite:
    """Replace the bytes at `slot` with `bytes`, if they still are `expected` (compare-and-swap)."""

    slot: PayloadSlot
    expected: bytes
    bytes: bytes

    def to_wire(self) -> JsonObject:
        """The request JSON."""
        return {
            "slot": self.slot.to_wire(),
            "expected": b64encode(self.expected),
            "bytes": b64encode(self.bytes),
        }


@dataclass(frozen=True, slots=True)
class NewBundle:
    """Workflow code to store once under its hash (`code` is a payload)."""

    hash: str
    filename: str
    workflow_ids: Sequence[str]
    code: bytes

    def to_wire(self) -> JsonObject:
        """The request JSON."""
        return {
            "hash": self.hash,
            "filename": self.filename,
            "workflowIds": list(self.workflow_ids),
            "code": b64encode(self.code),
        }


@dataclass(frozen=True, slots=True)
class NewAuditEntry:
    """An audit entry to record (the World adds its id and time)."""

    actor: AuditActor
    action: str
    resource: str
    run_ids: Sequence[str]
    reason: str | None = None
    refers_to: str | None = None
    outcome: Literal["succeeded", "failed"] | None = None
    detail: str | None = None

    def to_wire(self) -> JsonObject:
        """The request JSON."""
        body: JsonObject = {
            "actor": self.actor.to_wire(),
            "action": self.action,
            "resource": self.resource,
            "runIds": list(self.run_ids),
        }
        put(body, "reason", self.reason)
        put(body, "refersTo", self.refers_to)
        put(body, "outcome", self.outcome)
        put(body, "detail", self.detail)
        return body
