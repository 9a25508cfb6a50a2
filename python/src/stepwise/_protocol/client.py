"""`ProtocolClient`: the worker protocol v1 of a Stepwise server, one async method per operation.

Each method is named after its operation (`events/append` → `events_append`), takes the operation's
request fields as snake_case parameters (required ones positional, optional ones keyword-only) and
returns the answer as records (`records.py`, `results.py`); an answer of one field is unwrapped
(`runs/get` returns the `RunRecord`). Refusals raise the typed exceptions of `errors.py`. The
client never retries (docs/protocol.md: a failed write may have taken effect); `retry.py` offers
backoff for callers that retry reads and leases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType

import httpx

from .config import ServerAddress, resolve_server
from .inputs import (
    CreateRunInput,
    ImportRunInput,
    ListRunsFilter,
    NewAuditEntry,
    NewBundle,
    NewEvent,
    NewInboxItem,
    NewMessage,
    PayloadRewrite,
)
from .notifications import NotificationStream
from .records import (
    AuditEntry,
    BundleRecord,
    EventRecord,
    HookRecord,
    HookStatus,
    InboxItem,
    QueueMessage,
    RunRecord,
    StepRecord,
    StreamInfo,
    WaitRecord,
    WaitStatus,
    WorkerRecord,
    WorkerWorkflow,
)
from .results import (
    AcquireResult,
    AppendResult,
    AuditPage,
    CreatedRun,
    ImportResult,
    PickUpResult,
    RewriteResult,
    RunPage,
    StreamRead,
)
from .transport import DEFAULT_TIMEOUT_S, Transport
from .wire import (
    JsonObject,
    as_obj,
    b64encode,
    opt_int,
    put,
    req_bool,
    req_list,
    req_obj,
    str_list,
)


def _none(_: JsonObject) -> None:
    return None


def _run(obj: JsonObject) -> RunRecord:
    return RunRecord.from_wire(req_obj(obj, "run"))


def _events(obj: JsonObject) -> tuple[EventRecord, ...]:
    return tuple(EventRecord.from_wire(as_obj(e, "events")) for e in req_list(obj, "events"))


def _messages(obj: JsonObject) -> tuple[QueueMessage, ...]:
    return tuple(QueueMessage.from_wire(as_obj(m, "messages")) for m in req_list(obj, "messages"))


def _hook(obj: JsonObject) -> HookRecord:
    return HookRecord.from_wire(req_obj(obj, "hook"))


def _info(obj: JsonObject) -> StreamInfo:
    return StreamInfo.from_wire(req_obj(obj, "info"))


class _StrList:
    """Decodes an answer holding one array of strings under `key`."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, obj: JsonObject) -> tuple[str, ...]:
        return str_list(obj, self.key)


class _Flag:
    """Decodes an answer holding one boolean under `key`."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, obj: JsonObject) -> bool:
        return req_bool(obj, self.key)


def _queue_filter(
    body: JsonObject,
    workflows: Sequence[str] | None,
    run_ids: Sequence[str] | None,
    versions: Sequence[str] | None = None,
) -> None:
    if workflows is not None:
        body["workflows"] = list(workflows)
    if run_ids is not None:
        body["runIds"] = list(run_ids)
    if versions is not None:
        body["versions"] = list(versions)


class ProtocolClient:
    """A client of one Stepwise server's worker protocol (docs/protocol.md).

    `ProtocolClient()` reads `STEPWISE_WORLD` and `STEPWISE_HTTP_SECRET`; `ProtocolClient(url,
    secret)` names them. Nothing is sent until the first call. Close it with `await aclose()` (or
    use it as an async context manager). `timeout` (s) bounds each call, plus its `wait_ms` for
    long polls.
    """

    def __init__(
        self,
        url: str | None = None,
        secret: str | None = None,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.server: ServerAddress = resolve_server(url, secret, env)
        self._transport = Transport(self.server, timeout=timeout)
        self._call = self._transport.call

    @property
    def http(self) -> httpx.AsyncClient:
        """The `httpx.AsyncClient` of the notification stream and `GET`s (operations use `http11`)."""
        return self._transport.client

    async def aclose(self) -> None:
        """Closes the client's connections (open notification streams end)."""
        await self._transport.aclose()

    async def __aenter__(self) -> ProtocolClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- the protocol itself ------------------------------------------------------------------

    async def versions(self) -> tuple[str, ...]:
        """The protocol versions the server speaks (`GET …/protocol`)."""
        transport = self._transport
        try:
            response = await transport.client.get(self.server.versions_url)
        except httpx.TransportError as error:
            raise transport.unreachable("protocol versions", error) from error
        return transport.answer(
            "protocol versions", response.status_code, response.content, _StrList("versions")
        )

    def notifications(self) -> NotificationStream:
        """The server's change hints (`GET …/notifications`), an async iterator: see `NotificationStream`."""
        return NotificationStream(self._transport)

    # --- runs ----------------------------------------------------------------------------------

    async def runs_create(self, run: CreateRunInput) -> CreatedRun:
        """Creates a run (idempotent on its id); `created` says whether this call wrote it."""
        return await self._call("runs/create", {"run": run.to_wire()}, CreatedRun.from_wire)

    async def runs_create_many(self, runs: Sequence[CreateRunInput]) -> tuple[CreatedRun, ...]:
        """Creates runs in one transaction."""

        def decode(obj: JsonObject) -> tuple[CreatedRun, ...]:
            return tuple(CreatedRun.from_wire(as_obj(r, "results")) for r in req_list(obj, "results"))

        return await self._call("runs/create-many", {"runs": [r.to_wire() for r in runs]}, decode)

    async def runs_get(self, run_id: str) -> RunRecord:
        """A run (`RunNotFoundError` if there is none)."""
        return await self._call("runs/get", {"runId": run_id}, _run)

    async def runs_list(self, filter: ListRunsFilter | None = None) -> RunPage:
        """Runs, newest first, one page at a time (`filter.cursor` = the last page's `next_cursor`)."""
        body: JsonObject = {} if filter is None else {"filter": filter.to_wire()}
        return await self._call("runs/list", body, RunPage.from_wire)

    async def runs_workflow_names(self) -> tuple[str, ...]:
        """The distinct workflow names of stored runs."""
        return await self._call("runs/workflow-names", {}, _StrList("names"))

    async def runs_acquire(self, run_id: str, owner: str, lease_ms: int) -> AcquireResult:
        """Takes the run's lease for `owner`; `acquired=False` if another holds it (told to look again)."""
        body: JsonObject = {"runId": run_id, "owner": owner, "leaseMs": lease_ms}
        return await self._call("runs/acquire", body, AcquireResult.from_wire)

    async def runs_pick_up(
        self, run_id: str, owner: str, lease_ms: int, *, known_seq: int | None = None
    ) -> PickUpResult:
        """Takes the run's lease and reads its log and inbox in one round trip (a worker's pick-up).

        The log is left out when the run's seq equals `known_seq` (the caller's copy is current);
        neither is read when the run was not acquired or has ended.
        """
        body: JsonObject = {"runId": run_id, "owner": owner, "leaseMs": lease_ms}
        put(body, "knownSeq", known_seq)
        return await self._call("runs/pick-up", body, PickUpResult.from_wire)

    async def runs_renew(self, owner: str, run_ids: Sequence[str], lease_ms: int) -> tuple[str, ...]:
        """Extends `owner`'s leases on `run_ids`; answers the runs it still holds."""
        body: JsonObject = {"owner": owner, "runIds": list(run_ids), "leaseMs": lease_ms}
        return await self._call("runs/renew", body, _StrList("runIds"))

    async def runs_release(self, run_id: str, owner: str) -> bool:
        """Releases `owner`'s lease on the run: True, or False when someone asked for the run meanwhile.

        On False the lease stays `owner`'s (the request is cleared): look at the run again.
        """
        return await self._call("runs/release", {"runId": run_id, "owner": owner}, _Flag("released"))

    async def runs_import(self, run: ImportRunInput) -> ImportResult:
        """Writes a run exported from another World."""
        return await self._call("runs/import", {"run": run.to_wire()}, ImportResult.from_wire)

    # --- events --------------------------------------------------------------------------------

    async def events_append(
        self,
        run_id: str,
        expected_seq: int,
        events: Sequence[NewEvent],
        *,
        owner: str | None = None,
        enqueue: Sequence[NewMessage] | None = None,
        consume_inbox: Sequence[str] | None = None,
        ack: Sequence[str] | None = None,
        release_lease: bool | None = None,
        return_events: bool = True,
    ) -> AppendResult:
        """Appends events if the run's seq is still `expected_seq` (and `owner` holds its lease).

        In the same transaction: enqueues `enqueue`, takes inbox items `consume_inbox`, acks the
        messages `ack` and, with `release_lease`, lets the run go. Raises `SequenceConflictError`,
        `LeaseLostError` or `RunFinishedError` when the run is someone else's now: never retry those.
        With `return_events=False` the answer's `events` is empty (the server neither encodes nor
        sends them back): for a caller that has its own copy; the new events are numbered
        `seq - len(events) + 1` to `seq`.
        """
        body: JsonObject = {
            "runId": run_id,
            "expectedSeq": expected_seq,
            "events": [e.to_wire() for e in events],
        }
        put(body, "owner", owner)
        if enqueue is not None:
            body["enqueue"] = [m.to_wire() for m in enqueue]
        if consume_inbox is not None:
            body["consumeInbox"] = list(consume_inbox)
        if ack is not None:
            body["ack"] = list(ack)
        put(body, "releaseLease", release_lease)
        if not return_events:
            body["returnEvents"] = False
        return await self._call("events/append", body, AppendResult.from_wire)

    async def events_list(
        self, run_id: str, *, after_seq: int | None = None, limit: int | None = None
    ) -> tuple[EventRecord, ...]:
        """The run's events after `after_seq`, in order."""
        body: JsonObject = {"runId": run_id}
        put(body, "afterSeq", after_seq)
        put(body, "limit", limit)
        return await self._call("events/list", body, _events)

    # --- steps, hooks, waits -------------------------------------------------------------------

    async def steps_list(self, run_id: str) -> tuple[StepRecord, ...]:
        """The run's steps."""

        def decode(obj: JsonObject) -> tuple[StepRecord, ...]:
            return tuple(StepRecord.from_wire(as_obj(s, "steps")) for s in req_list(obj, "steps"))

        return await self._call("steps/list", {"runId": run_id}, decode)

    async def steps_get(self, run_id: str, step_id: str) -> StepRecord:
        """One step (`NotFoundError` if there is none)."""

        def decode(obj: JsonObject) -> StepRecord:
            return StepRecord.from_wire(req_obj(obj, "step"))

        return await self._call("steps/get", {"runId": run_id, "stepId": step_id}, decode)

    async def hooks_get_by_token(self, token: str) -> HookRecord:
        """The active hook holding `token` (`HookNotFoundError` if none)."""
        return await self._call("hooks/get-by-token", {"token": token}, _hook)

    async def hooks_get(self, hook_id: str) -> HookRecord:
        """A hook by id."""
        return await self._call("hooks/get", {"hookId": hook_id}, _hook)

    async def hooks_list(
        self, *, run_id: str | None = None, status: HookStatus | None = None, limit: int | None = None
    ) -> tuple[HookRecord, ...]:
        """A run's hooks, or all hooks."""
        body: JsonObject = {}
        put(body, "runId", run_id)
        put(body, "status", status)
        put(body, "limit", limit)

        def decode(obj: JsonObject) -> tuple[HookRecord, ...]:
            return tuple(HookRecord.from_wire(as_obj(h, "hooks")) for h in req_list(obj, "hooks"))

        return await self._call("hooks/list", body, decode)

    async def waits_list(
        self, *, run_id: str | None = None, status: WaitStatus | None = None, limit: int | None = None
    ) -> tuple[WaitRecord, ...]:
        """A run's waits (sleeps, event waits), or all waits."""
        body: JsonObject = {}
        put(body, "runId", run_id)
        put(body, "status", status)
        put(body, "limit", limit)

        def decode(obj: JsonObject) -> tuple[WaitRecord, ...]:
            return tuple(WaitRecord.from_wire(as_obj(w, "waits")) for w in req_list(obj, "waits"))

        return await self._call("waits/list", body, decode)

    # --- queue ---------------------------------------------------------------------------------

    async def queue_enqueue(self, messages: Sequence[NewMessage]) -> None:
        """Adds messages to the queue."""
        await self._call("queue/enqueue", {"messages": [m.to_wire() for m in messages]}, _none)

    async def queue_claim(
        self,
        owner: str,
        limit: int,
        lease_ms: int,
        *,
        workflows: Sequence[str] | None = None,
        run_ids: Sequence[str] | None = None,
        versions: Sequence[str] | None = None,
        wait_ms: int | None = None,
    ) -> tuple[QueueMessage, ...]:
        """Claims up to `limit` due messages for `owner`; with `wait_ms`, a long poll (≤ 60 s).

        `versions`: only messages of runs pinned to one of these code versions, or not pinned yet.
        """
        body: JsonObject = {"owner": owner, "limit": limit, "leaseMs": lease_ms}
        _queue_filter(body, workflows, run_ids, versions)
        put(body, "waitMs", wait_ms)
        return await self._call("queue/claim", body, _messages, wait_ms)

    async def queue_ack(self, owner: str, message_ids: Sequence[str]) -> None:
        """Deletes messages leased to `owner`."""
        await self._call("queue/ack", {"owner": owner, "messageIds": list(message_ids)}, _none)

    async def queue_release(self, owner: str, message_id: str, *, available_at: int | None = None) -> None:
        """Returns a leased message to the queue (claimable again at `available_at`)."""
        body: JsonObject = {"owner": owner, "messageId": message_id}
        put(body, "availableAt", available_at)
        await self._call("queue/release", body, _none)

    async def queue_extend(self, owner: str, message_ids: Sequence[str], lease_ms: int) -> tuple[str, ...]:
        """Extends `owner`'s message leases; answers the ids it still holds."""
        body: JsonObject = {"owner": owner, "messageIds": list(message_ids), "leaseMs": lease_ms}
        return await self._call("queue/extend", body, _StrList("messageIds"))

    async def queue_next_available(
        self,
        *,
        workflows: Sequence[str] | None = None,
        run_ids: Sequence[str] | None = None,
        versions: Sequence[str] | None = None,
    ) -> int | None:
        """When the next message becomes claimable (epoch ms), or None when there is none."""
        body: JsonObject = {}
        _queue_filter(body, workflows, run_ids, versions)

        def decode(obj: JsonObject) -> int | None:
            return opt_int(obj, "at")

        return await self._call("queue/next-available", body, decode)

    async def queue_list(self, run_id: str) -> tuple[QueueMessage, ...]:
        """The run's queue messages."""
        return await self._call("queue/list", {"runId": run_id}, _messages)

    # --- inbox ---------------------------------------------------------------------------------

    async def inbox_put(self, item: NewInboxItem, *, max_run_bytes: int | None = None) -> InboxItem:
        """Stores an inbox item and enqueues its run's message; answers the item as stored."""
        body: JsonObject = {"item": item.to_wire()}
        put(body, "maxRunBytes", max_run_bytes)

        def decode(obj: JsonObject) -> InboxItem:
            return InboxItem.from_wire(req_obj(obj, "item"))

        return await self._call("inbox/put", body, decode)

    async def inbox_list(self, run_id: str) -> tuple[InboxItem, ...]:
        """Items waiting for the run."""

        def decode(obj: JsonObject) -> tuple[InboxItem, ...]:
            return tuple(InboxItem.from_wire(as_obj(i, "items")) for i in req_list(obj, "items"))

        return await self._call("inbox/list", {"runId": run_id}, decode)

    # --- streams -------------------------------------------------------------------------------

    async def streams_write(
        self,
        run_id: str,
        name: str,
        chunks: Sequence[bytes],
        *,
        close: bool | None = None,
        max_run_bytes: int | None = None,
    ) -> StreamInfo:
        """Appends chunks to the run's stream `name`, closing it with `close=True`."""
        body: JsonObject = {"runId": run_id, "name": name, "chunks": [b64encode(c) for c in chunks]}
        put(body, "close", close)
        put(body, "maxRunBytes", max_run_bytes)
        return await self._call("streams/write", body, _info)

    async def streams_read(
        self,
        run_id: str,
        name: str,
        *,
        from_: int | None = None,
        limit: int | None = None,
        wait_ms: int | None = None,
    ) -> StreamRead:
        """Chunks from index `from_`; with `wait_ms`, a tail: waits for one if none is there yet."""
        body: JsonObject = {"runId": run_id, "name": name}
        put(body, "from", from_)
        put(body, "limit", limit)
        put(body, "waitMs", wait_ms)
        return await self._call("streams/read", body, StreamRead.from_wire, wait_ms)

    async def streams_info(self, run_id: str, name: str) -> StreamInfo:
        """The stream's length and whether it is closed."""
        return await self._call("streams/info", {"runId": run_id, "name": name}, _info)

    async def streams_list(self, run_id: str) -> tuple[StreamInfo, ...]:
        """The run's streams."""

        def decode(obj: JsonObject) -> tuple[StreamInfo, ...]:
            return tuple(StreamInfo.from_wire(as_obj(s, "streams")) for s in req_list(obj, "streams"))

        return await self._call("streams/list", {"runId": run_id}, decode)

    # --- payloads, bundles, notices, audit -----------------------------------------------------

    async def payloads_rewrite(self, run_id: str, rewrites: Sequence[PayloadRewrite]) -> RewriteResult:
        """Replaces stored payload bytes in place, each only if still as expected (re-encryption)."""
        body: JsonObject = {"runId": run_id, "rewrites": [r.to_wire() for r in rewrites]}
        return await self._call("payloads/rewrite", body, RewriteResult.from_wire)

    async def bundles_put(self, bundle: NewBundle) -> None:
        """Stores workflow code once under its hash."""
        await self._call("bundles/put", {"bundle": bundle.to_wire()}, _none)

    async def bundles_get(self, hash: str) -> BundleRecord:
        """A stored bundle (`NotFoundError` if none)."""

        def decode(obj: JsonObject) -> BundleRecord:
            return BundleRecord.from_wire(req_obj(obj, "bundle"))

        return await self._call("bundles/get", {"hash": hash}, decode)

    async def bundles_hashes(self) -> tuple[str, ...]:
        """Every stored bundle's hash."""
        return await self._call("bundles/hashes", {}, _StrList("hashes"))

    async def bundles_rewrite(self, hash: str, from_: bytes, to: bytes) -> bool:
        """Replaces a bundle's bytes if they still are `from_`; whether it did."""
        body: JsonObject = {"hash": hash, "from": b64encode(from_), "to": b64encode(to)}
        return await self._call("bundles/rewrite", body, _Flag("rewritten"))

    async def notices_record(self, key: str) -> bool:
        """Records that a notice was given; True the first time for `key`."""
        return await self._call("notices/record", {"key": key}, _Flag("recorded"))

    async def audit_record(self, entry: NewAuditEntry) -> AuditEntry:
        """Appends an audit entry; answers it with its id and time."""

        def decode(obj: JsonObject) -> AuditEntry:
            return AuditEntry.from_wire(req_obj(obj, "entry"))

        return await self._call("audit/record", {"entry": entry.to_wire()}, decode)

    async def audit_list(
        self, *, run_id: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> AuditPage:
        """Audit entries, newest first, one page at a time."""
        body: JsonObject = {}
        put(body, "runId", run_id)
        put(body, "limit", limit)
        put(body, "cursor", cursor)
        return await self._call("audit/list", body, AuditPage.from_wire)

    # --- workers and tasks ---------------------------------------------------------------------

    async def workers_register(
        self,
        language: str,
        workflows: Sequence[WorkerWorkflow],
        *,
        label: str | None = None,
        steps: Sequence[str] | None = None,
    ) -> WorkerRecord:
        """Registers a worker with the workflows (and versions) and steps it has; answers its record.

        `WorkflowVersionConflictError` when another live worker registered one of the versions with
        another digest.
        """
        body: JsonObject = {"language": language, "workflows": [w.to_wire() for w in workflows]}
        put(body, "label", label)
        if steps is not None:
            body["steps"] = list(steps)

        def decode(obj: JsonObject) -> WorkerRecord:
            return WorkerRecord.from_wire(req_obj(obj, "worker"))

        return await self._call("workers/register", body, decode)

    async def workers_list(self) -> tuple[WorkerRecord, ...]:
        """The live workers (heard from within the last minute)."""

        def decode(obj: JsonObject) -> tuple[WorkerRecord, ...]:
            return tuple(WorkerRecord.from_wire(as_obj(w, "workers")) for w in req_list(obj, "workers"))

        return await self._call("workers/list", {}, decode)

    async def workflows_list(self) -> tuple[str, ...]:
        """The full ids of the workflows live workers registered, sorted, each once.

        How a client without a workflow's code finds it by its plain name.
        """
        return await self._call("workflows/list", {}, _StrList("workflows"))

    async def tasks_lease(
        self,
        worker_id: str,
        limit: int,
        lease_ms: int,
        *,
        run_ids: Sequence[str] | None = None,
        wait_ms: int | None = None,
    ) -> tuple[QueueMessage, ...]:
        """Leases due messages of the worker's workflows; with `wait_ms`, a long poll (≤ 60 s).

        `WorkerNotFoundError` when the server does not know `worker_id` (it restarted): register again.
        """
        body: JsonObject = {"workerId": worker_id, "limit": limit, "leaseMs": lease_ms}
        if run_ids is not None:
            body["runIds"] = list(run_ids)
        put(body, "waitMs", wait_ms)
        return await self._call("tasks/lease", body, _messages, wait_ms)


__all__ = ["ProtocolClient"]
