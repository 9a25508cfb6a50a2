"""The records the worker protocol answers with: frozen dataclasses, snake_case, bytes decoded.

One class per record of docs/protocol.openapi.json (`RunRecord`, `EventRecord`, …), field for
field. `from_wire` builds one from the answer's JSON by hand (no validation library: this runs
for every answer a worker reads). Records that also travel in requests (`EventRecord` and
`InboxItem` in imports, `WorkerWorkflow`, `AuditActor`, `StreamChunk`) have `to_wire` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from .wire import (
    JsonObject,
    WireFormatError,
    as_obj,
    b64encode,
    opt_bytes,
    opt_int,
    opt_obj,
    opt_str,
    put,
    req_bool,
    req_bytes,
    req_int,
    req_list,
    req_obj,
    req_str,
    str_list,
)

RunStatus = Literal["pending", "running", "pausing", "paused", "completed", "failed", "cancelled"]
StepStatus = Literal["running", "retrying", "completed", "failed"]
HookKind = Literal["hook", "webhook"]
HookStatus = Literal["active", "disposed"]
WaitKind = Literal["sleep", "event"]
WaitStatus = Literal["waiting", "completed", "timed_out", "cancelled"]
InboxKind = Literal["hook_payload", "event", "cancel", "pause", "pause_abort", "resume", "restart"]
NotificationType = Literal["queue", "run", "inbox", "stream", "any", "ready"]

RUN_STATUSES: frozenset[str] = frozenset(
    ("pending", "running", "pausing", "paused", "completed", "failed", "cancelled")
)
_STEP_STATUSES = frozenset(("running", "retrying", "completed", "failed"))
_HOOK_KINDS = frozenset(("hook", "webhook"))
_HOOK_STATUSES = frozenset(("active", "disposed"))
_WAIT_KINDS = frozenset(("sleep", "event"))
_WAIT_STATUSES = frozenset(("waiting", "completed", "timed_out", "cancelled"))
INBOX_KINDS: frozenset[str] = frozenset(
    ("hook_payload", "event", "cancel", "pause", "pause_abort", "resume", "restart")
)
_NOTIFICATION_TYPES = frozenset(("queue", "run", "inbox", "stream", "any", "ready"))


def _one_of(obj: JsonObject, key: str, allowed: frozenset[str]) -> str:
    value = req_str(obj, key)
    if value not in allowed:
        raise WireFormatError(f"{key}: unknown value {value!r}")
    return value


def run_status(obj: JsonObject, key: str = "status") -> RunStatus:
    """A run status field, checked against the statuses the protocol knows."""
    return cast(RunStatus, _one_of(obj, key, RUN_STATUSES))


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds a run's (or a message's) lease, and until when (epoch ms, the server's clock)."""

    owner: str
    expires_at: int

    @classmethod
    def from_wire(cls, obj: JsonObject) -> Lease:
        """Decodes the answer's JSON."""
        return cls(req_str(obj, "owner"), req_int(obj, "expiresAt"))


def _opt_lease(obj: JsonObject) -> Lease | None:
    lease = opt_obj(obj, "lease")
    return None if lease is None else Lease.from_wire(lease)


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run as the World keeps it; `seq` is the last event's number (the append fence)."""

    run_id: str
    workflow_name: str
    status: RunStatus
    seq: int
    spec_version: int
    seed: str
    encrypted: bool
    payload_bytes: int
    input: bytes
    output: bytes | None
    error: bytes | None
    created_at: int
    started_at: int | None
    completed_at: int | None
    updated_at: int
    bundle_hash: str | None
    lease: Lease | None
    wake_pending: bool

    @classmethod
    def from_wire(cls, obj: JsonObject) -> RunRecord:
        """Decodes the answer's JSON."""
        return cls(
            run_id=req_str(obj, "runId"),
            workflow_name=req_str(obj, "workflowName"),
            status=run_status(obj),
            seq=req_int(obj, "seq"),
            spec_version=req_int(obj, "specVersion"),
            seed=req_str(obj, "seed"),
            encrypted=req_bool(obj, "encrypted"),
            payload_bytes=req_int(obj, "payloadBytes"),
            input=req_bytes(obj, "input"),
            output=opt_bytes(obj, "output"),
            error=opt_bytes(obj, "error"),
            created_at=req_int(obj, "createdAt"),
            started_at=opt_int(obj, "startedAt"),
            completed_at=opt_int(obj, "completedAt"),
            updated_at=req_int(obj, "updatedAt"),
            bundle_hash=opt_str(obj, "bundleHash"),
            lease=_opt_lease(obj),
            wake_pending=req_bool(obj, "wakePending"),
        )


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event of a run's log: numbered from 1, `data` its metadata, `payload` its bytes."""

    run_id: str
    seq: int
    type: str
    data: JsonObject
    payload: bytes | None
    created_at: int

    @classmethod
    def from_wire(cls, obj: JsonObject) -> EventRecord:
        """Decodes the answer's JSON."""
        return cls(
            run_id=req_str(obj, "runId"),
            seq=req_int(obj, "seq"),
            type=req_str(obj, "type"),
            data=req_obj(obj, "data"),
            payload=opt_bytes(obj, "payload"),
            created_at=req_int(obj, "createdAt"),
        )

    def to_wire(self) -> JsonObject:
        """The JSON of this record (for `runs/import`)."""
        body: JsonObject = {
            "runId": self.run_id,
            "seq": self.seq,
            "type": self.type,
            "data": self.data,
            "createdAt": self.created_at,
        }
        if self.payload is not None:
            body["payload"] = b64encode(self.payload)
        return body


@dataclass(frozen=True, slots=True)
class StepRecord:
    """A step of a run, as projected from its events."""

    run_id: str
    step_id: str
    step_name: str
    status: StepStatus
    attempt: int
    input: bytes | None
    output: bytes | None
    error: bytes | None
    created_at: int
    started_at: int
    completed_at: int | None
    retry_at: int | None
    updated_at: int

    @classmethod
    def from_wire(cls, obj: JsonObject) -> StepRecord:
        """Decodes the answer's JSON."""
        return cls(
            run_id=req_str(obj, "runId"),
            step_id=req_str(obj, "stepId"),
            step_name=req_str(obj, "stepName"),
            status=cast(StepStatus, _one_of(obj, "status", _STEP_STATUSES)),
            attempt=req_int(obj, "attempt"),
            input=opt_bytes(obj, "input"),
            output=opt_bytes(obj, "output"),
            error=opt_bytes(obj, "error"),
            created_at=req_int(obj, "createdAt"),
            started_at=req_int(obj, "startedAt"),
            completed_at=opt_int(obj, "completedAt"),
            retry_at=opt_int(obj, "retryAt"),
            updated_at=req_int(obj, "updatedAt"),
        )


@dataclass(frozen=True, slots=True)
class HookRecord:
    """A hook (or webhook) of a run, listening on `token` while `status` is active."""

    run_id: str
    hook_id: str
    token: str
    kind: HookKind
    status: HookStatus
    meta: JsonObject | None
    created_at: int
    disposed_at: int | None

    @classmethod
    def from_wire(cls, obj: JsonObject) -> HookRecord:
        """Decodes the answer's JSON."""
        return cls(
            run_id=req_str(obj, "runId"),
            hook_id=req_str(obj, "hookId"),
            token=req_str(obj, "token"),
            kind=cast(HookKind, _one_of(obj, "kind", _HOOK_KINDS)),
            status=cast(HookStatus, _one_of(obj, "status", _HOOK_STATUSES)),
            meta=opt_obj(obj, "meta"),
            created_at=req_int(obj, "createdAt"),
            disposed_at=opt_int(obj, "disposedAt"),
        )


@dataclass(frozen=True, slots=True)
class WaitRecord:
    """A durable sleep or an event wait of a run."""

    run_id: str
    wait_id: str
    kind: WaitKind
    event_type: str | None
    resume_at: int
    status: WaitStatus
    created_at: int
    completed_at: int | None

    @classmethod
    def from_wire(cls, obj: JsonObject) -> WaitRecord:
        """Decodes the answer's JSON."""
        return cls(
            run_id=req_str(obj, "runId"),
            wait_id=req_str(obj, "waitId"),
            kind=cast(WaitKind, _one_of(obj, "kind", _WAIT_KINDS)),
            event_type=opt_str(obj, "eventType"),
            resume_at=req_int(obj, "resumeAt"),
            status=cast(WaitStatus, _one_of(obj, "status", _WAIT_STATUSES)),
            created_at=req_int(obj, "createdAt"),
            completed_at=opt_int(obj, "completedAt"),
        )


@dataclass(frozen=True, slots=True)
class QueueMessage:
    """A queue message: run `run_id` needs looking at (`kind`: start, wake, inbox, …)."""

    message_id: str
    run_id: str
    kind: str
    dedupe_key: str | None
    available_at: int
    deliveries: int
    lease: Lease | None
    created_at: int

    @classmethod
    def from_wire(cls, obj: JsonObject) -> QueueMessage:
        """Decodes the answer's JSON."""
        return cls(
            message_id=req_str(obj, "messageId"),
            run_id=req_str(obj, "runId"),
            kind=req_str(obj, "kind"),
            dedupe_key=opt_str(obj, "dedupeKey"),
            available_at=req_int(obj, "availableAt"),
            deliveries=req_int(obj, "deliveries"),
            lease=_opt_lease(obj),
            created_at=req_int(obj, "createdAt"),
        )


@dataclass(frozen=True, slots=True)
class InboxItem:
    """Something delivered to a run and waiting for it: a hook payload, an event, a control."""

    item_id: str
    run_id: str
    kind: InboxKind
    hook_id: str | None
    event_type: str | None
    generation: int | None
    payload: bytes | None
    created_at: int

    @classmethod
    def from_wire(cls, obj: JsonObject) -> InboxItem:
        """Decodes the answer's JSON."""
        return cls(
            item_id=req_str(obj, "itemId"),
            run_id=req_str(obj, "runId"),
            kind=cast(InboxKind, _one_of(obj, "kind", INBOX_KINDS)),
            hook_id=opt_str(obj, "hookId"),
            event_type=opt_str(obj, "eventType"),
            generation=opt_int(obj, "generation"),
            payload=opt_bytes(obj, "payload"),
            created_at=req_int(obj, "createdAt"),
        )

    def to_wire(self) -> JsonObject:
        """The JSON of this record (for `runs/import`)."""
        body: JsonObject = {
            "itemId": self.item_id,
            "runId": self.run_id,
            "kind": self.kind,
            "createdAt": self.created_at,
        }
        put(body, "hookId", self.hook_id)
        put(body, "eventType", self.event_type)
        put(body, "generation", self.generation)
        if self.payload is not None:
            body["payload"] = b64encode(self.payload)
        return body


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """One chunk of a run's durable stream (its bytes are opaque to the protocol)."""

    index: int
    data: bytes
    created_at: int

    @classmethod
    def from_wire(cls, obj: JsonObject) -> StreamChunk:
        """Decodes the answer's JSON."""
        return cls(req_int(obj, "index"), req_bytes(obj, "data"), req_int(obj, "createdAt"))

    def to_wire(self) -> JsonObject:
        """The JSON of this record (for `runs/import`)."""
        return {"index": self.index, "data": b64encode(self.data), "createdAt": self.created_at}


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """A stream's length (chunks written) and whether it is closed."""

    run_id: str
    name: str
    length: int
    closed: bool

    @classmethod
    def from_wire(cls, obj: JsonObject) -> StreamInfo:
        """Decodes the answer's JSON."""
        return cls(
            req_str(obj, "runId"), req_str(obj, "name"), req_int(obj, "length"), req_bool(obj, "closed")
        )


@dataclass(frozen=True, slots=True)
class BundleRecord:
    """Stored workflow code (`code` is a payload), by its hash."""

    hash: str
    filename: str
    workflow_ids: tuple[str, ...]
    code: bytes
    created_at: int

    @classmethod
    def from_wire(cls, obj: JsonObject) -> BundleRecord:
        """Decodes the answer's JSON."""
        return cls(
            hash=req_str(obj, "hash"),
            filename=req_str(obj, "filename"),
            workflow_ids=str_list(obj, "workflowIds"),
            code=req_bytes(obj, "code"),
            created_at=req_int(obj, "createdAt"),
        )


@dataclass(frozen=True, slots=True)
class AuditActor:
    """Who did something the audit trail records."""

    user: str
    host: str
    pid: int

    @classmethod
    def from_wire(cls, obj: JsonObject) -> AuditActor:
        """Decodes the answer's JSON."""
        return cls(req_str(obj, "user"), req_str(obj, "host"), req_int(obj, "pid"))

    def to_wire(self) -> JsonObject:
        """The JSON of this record."""
        return {"user": self.user, "host": self.host, "pid": self.pid}


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """An entry of the audit trail (reads of encrypted data, re-keys, …)."""

    audit_id: str
    at: int
    actor: AuditActor
    action: str
    resource: str
    run_ids: tuple[str, ...]
    reason: str | None
    refers_to: str | None
    outcome: Literal["succeeded", "failed"] | None
    detail: str | None

    @classmethod
    def from_wire(cls, obj: JsonObject) -> AuditEntry:
        """Decodes the answer's JSON."""
        outcome = opt_str(obj, "outcome")
        if outcome not in (None, "succeeded", "failed"):
            raise WireFormatError(f"outcome: unknown value {outcome!r}")
        return cls(
            audit_id=req_str(obj, "auditId"),
            at=req_int(obj, "at"),
            actor=AuditActor.from_wire(req_obj(obj, "actor")),
            action=req_str(obj, "action"),
            resource=req_str(obj, "resource"),
            run_ids=str_list(obj, "runIds"),
            reason=opt_str(obj, "reason"),
            refers_to=opt_str(obj, "refersTo"),
            outcome=cast(Literal["succeeded", "failed"] | None, outcome),
            detail=opt_str(obj, "detail"),
        )


@dataclass(frozen=True, slots=True)
class WorkerWorkflow:
    """A workflow a worker has: its full id, the version runs are pinned to, a digest of its code."""

    name: str
    version: str | None = None
    digest: str | None = None

    @classmethod
    def from_wire(cls, obj: JsonObject) -> WorkerWorkflow:
        """Decodes the answer's JSON."""
        return cls(req_str(obj, "name"), opt_str(obj, "version"), opt_str(obj, "digest"))

    def to_wire(self) -> JsonObject:
        """The JSON of this record (for `workers/register`)."""
        body: JsonObject = {"name": self.name}
        put(body, "version", self.version)
        put(body, "digest", self.digest)
        return body


@dataclass(frozen=True, slots=True)
class WorkerRecord:
    """A registered worker: its id (for `tasks/lease`) and what it said it has."""

    worker_id: str
    language: str
    label: str | None
    workflows: tuple[WorkerWorkflow, ...]
    steps: tuple[str, ...]
    registered_at: int
    last_seen_at: int

    @classmethod
    def from_wire(cls, obj: JsonObject) -> WorkerRecord:
        """Decodes the answer's JSON."""
        return cls(
            worker_id=req_str(obj, "workerId"),
            language=req_str(obj, "language"),
            label=opt_str(obj, "label"),
            workflows=tuple(
                WorkerWorkflow.from_wire(as_obj(w, "workflows")) for w in req_list(obj, "workflows")
            ),
            steps=str_list(obj, "steps"),
            registered_at=req_int(obj, "registeredAt"),
            last_seen_at=req_int(obj, "lastSeenAt"),
        )


@dataclass(frozen=True, slots=True)
class Notification:
    """A change hint from the notification stream, or `type="ready"` when the stream is live.

    Hints may be coalesced or repeated: a listener re-reads what it cares about. `type="any"`
    means hints may have been missed (the stream was down): re-read everything.
    """

    type: NotificationType
    run_id: str | None = None
    status: RunStatus | None = None
    name: str | None = None

    @classmethod
    def from_wire(cls, obj: JsonObject) -> Notification:
        """Decodes one `data:` line's JSON."""
        status = opt_str(obj, "status")
        if status is not None and status not in RUN_STATUSES:
            raise WireFormatError(f"status: unknown value {status!r}")
        return cls(
            type=cast(NotificationType, _one_of(obj, "type", _NOTIFICATION_TYPES)),
            run_id=opt_str(obj, "runId"),
            status=cast(RunStatus | None, status),
            name=opt_str(obj, "name"),
        )
