"""A Python worker: registers its workflows with a Stepwise server, takes their runs with task
leases (a long poll), and drives each run with a `RunDriver` (src/runtime/worker.ts, in Python).

Per run it picks the run up in one round trip (`runs/pick-up`: the lease, the log and the inbox),
replays the log into a machine, and drives it until the run waits, ends, pauses or is stopped.
A run that suspends keeps its machine in a small cache, so when it wakes with nothing else in its
log it continues without a replay. A heartbeat renews the leases of the runs it drives and of the
messages it holds; a run whose lease is lost is abandoned at once. A server that cannot be
reached is retried with backoff, said once, and said again when it is back.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from .._protocol import (
    ProtocolClient,
    WorkerNotFoundError,
    WorldUnavailableError,
)
from .._protocol.records import InboxItem, QueueMessage, RunRecord, WorkerWorkflow
from .._serde import PayloadCodec, places
from ..errors import StepwiseError
from .codec import BoundPayloads, SerdeValues
from .driver import DriveOutcome, DriverHost, RunDriver
from .events import TERMINAL_RUN_STATUSES
from .executor import StepBody
from .machine import MachineOptions, RunInfo, RunMachine, WorkflowSide, pinned_version
from .tracing import trace_run

#: The newest format of a run's log this worker reads (the TypeScript engine's SPEC_VERSION).
SPEC_VERSION = 5


@dataclass(slots=True)
class WorkerOptions:
    """How a worker runs; the defaults match the TypeScript worker's."""

    #: Runs driven at once.
    max_runs: int = 100
    #: Step attempts executing at once across all runs.
    step_concurrency: int = 64
    per_run_concurrency: int = 32
    lease_ms: int = 5_000
    hold_ms: int = 1_000
    #: How long one task lease waits for work.
    wait_ms: int = 30_000
    #: Suspended runs kept replayed in memory.
    cache_size: int = 256
    max_run_bytes: int = 2 * 1024 * 1024 * 1024
    public_url: str = field(default_factory=lambda: os.environ.get("STEPWISE_PUBLIC_URL", "http://localhost:3000/stepwise"))
    label: str | None = None


@dataclass(slots=True)
class RunDefinition:
    """What the worker needs of a workflow to drive its runs (`stepwise._api` provides them)."""

    name: str
    #: Builds the workflow side of a run's machine.
    realm: Callable[[RunMachine], WorkflowSide]
    #: The bodies of steps the run declared itself (Cloudflare style), read after replay.
    step_bodies: Callable[[object], Callable[[str], StepBody | None]]


@dataclass(slots=True)
class _Active:
    anchors: list[str]
    driver: RunDriver | None = None
    leased: bool = False
    inbox_hinted: bool = False


class Worker:
    """See the module docstring. `definitions` are the workflows it runs, `version` their code's."""

    def __init__(
        self,
        client: ProtocolClient,
        definitions: dict[str, RunDefinition],
        version: str,
        step_body: Callable[[str], StepBody | None],
        *,
        payloads: PayloadCodec | None = None,
        options: WorkerOptions | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.definitions = definitions
        self.version = version
        self.options = options or WorkerOptions()
        self.payloads = payloads or PayloadCodec.from_env()
        self.worker_id = ""
        self._step_body = step_body
        self._log = log or (lambda message: print(message, flush=True))
        self._codec = SerdeValues()
        self._slots = asyncio.Semaphore(self.options.step_concurrency)
        self._active: dict[str, _Active] = {}
        self._cache: OrderedDict[str, RunMachine] = OrderedDict()
        self._running = False
        self._stopped = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._warned: set[str] = set()
        self._unreachable = False
        self._lease_task: asyncio.Task[None] | None = None
        self._backoff = 0.0
        self.runs_finished = 0

    # ---- lifecycle -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Registers, then takes and drives runs until `stop()`."""
        self._running = True
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            await self._register()
            while self._running:
                # A task, so that stop() ends the long poll at once instead of waiting it out.
                self._lease_task = asyncio.create_task(self._lease_once())
                try:
                    await self._lease_task
                except asyncio.CancelledError:
                    if self._running:
                        raise
                finally:
                    self._lease_task = None
        finally:
            heartbeat.cancel()
            await self._drain()
            self._stopped.set()

    async def stop(self) -> None:
        """Stops taking work; runs in flight finish their steps, are recorded and let go."""
        self._running = False
        if self._lease_task is not None:
            self._lease_task.cancel()
        for active in self._active.values():
            if active.driver is not None:
                active.driver.request_stop()

    async def _drain(self) -> None:
        for active in self._active.values():
            if active.driver is not None:
                active.driver.request_stop()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _warn(self, message: str) -> None:
        self._log(f"stepwise worker: {message}")

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self._warn(message)

    def _now(self) -> int:
        return time.time_ns() // 1_000_000

    # ---- registration and leases ---------------------------------------------------------------

    async def _register(self) -> None:
        workflows = [WorkerWorkflow(name, self.version, self.version) for name in sorted(self.definitions)]
        label = self.options.label or f"python {socket.gethostname()} pid {os.getpid()}"
        while self._running:
            try:
                record = await self.client.workers_register("python", workflows, label=label)
                self.worker_id = record.worker_id
                self._reachable()
                return
            except WorldUnavailableError as error:
                await self._unreachable_wait(error)

    def _reachable(self) -> None:
        self._backoff = 0.0
        if self._unreachable:
            self._unreachable = False
            self._warn("the Stepwise server is reachable again; taking work.")

    async def _unreachable_wait(self, error: Exception) -> None:
        """Waits before trying the server again: 0.2 s, doubling to 10 s; says so once per outage."""
        if not self._unreachable:
            self._unreachable = True
            self._warn(f"{error} Retrying with backoff until it answers.")
        self._backoff = min(10.0, max(0.2, self._backoff * 2))
        await asyncio.sleep(self._backoff)

    async def _lease_once(self) -> None:
        free = self.options.max_runs - len(self._active)
        if free <= 0:
            await asyncio.sleep(0.05)
            return
        try:
            messages = await self.client.tasks_lease(
                self.worker_id, free, self.options.lease_ms, wait_ms=self.options.wait_ms
            )
            self._reachable()
        except WorkerNotFoundError:
            await self._register()  # the server restarted and forgot us
            return
        except WorldUnavailableError as error:
            await self._unreachable_wait(error)
            return
        for message in messages:
            self._handle(message)

    def _handle(self, message: QueueMessage) -> None:
        existing = self._active.get(message.run_id)
        if existing is not None:
            if existing.driver is not None:
                existing.driver.anchors.append(message.message_id)
                existing.driver.notify_inbox()
            else:
                existing.anchors.append(message.message_id)
                existing.inbox_hinted = True
            return
        active = _Active([message.message_id])
        self._active[message.run_id] = active
        task = asyncio.create_task(self._take_safely(message.run_id, active))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _take_safely(self, run_id: str, active: _Active) -> None:
        try:
            await self._take(run_id, active)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._warn(f"driving run {run_id} failed; it will be retried. {type(error).__name__}: {error}")
            try:
                await self._hand_back(run_id, active, self._now() + 1_000)
            except Exception as failure:
                self._warn(f"handing run {run_id} back failed: {failure}")
        finally:
            self._active.pop(run_id, None)

    async def _take(self, run_id: str, active: _Active) -> None:
        client, owner = self.client, self.worker_id
        cached = self._cache.get(run_id)
        active.inbox_hinted = False
        picked = await client.runs_pick_up(
            run_id, owner, self.options.lease_ms, known_seq=None if cached is None else cached.seq
        )
        run = picked.run
        if not picked.acquired:
            expires = run.lease.expires_at if run.lease is not None else self._now()
            await self._release_messages(active, expires + 100)
            return
        active.leased = True
        if run.status in TERMINAL_RUN_STATUSES:
            await client.queue_ack(owner, active.anchors)
            await client.runs_release(run_id, owner)
            self._cache.pop(run_id, None)
            return
        inbox: list[InboxItem] | None = None if picked.inbox is None else list(picked.inbox)
        if run.status == "paused" and not _pause_lifted(inbox if inbox is not None else list(await client.inbox_list(run_id))):
            await client.queue_ack(owner, active.anchors)
            active.anchors = []
            if await client.runs_release(run_id, owner):
                return
            inbox = None
        if run.spec_version > SPEC_VERSION:
            self._warn_once(
                f"spec:{run_id}",
                f"run {run_id} was created by a newer Stepwise (format {run.spec_version}, this worker "
                f"reads {SPEC_VERSION}); leaving it to a newer worker.",
            )
            await self._hand_back(run_id, active, self._now() + 60_000)
            return
        definition = self.definitions.get(run.workflow_name)
        if definition is None:
            self._warn_once(
                f"wf:{run.workflow_name}",
                f"this worker has no workflow {run.workflow_name}, yet the server gave it run {run_id}; "
                "it is left for a worker that has it.",
            )
            await self._hand_back(run_id, active, self._now() + 5_000)
            return
        machine = self._cached_machine(run)
        if machine is None:
            events = list(picked.events) if picked.events is not None else list(await client.events_list(run_id))
            pinned = pinned_version(events)
            if pinned is not None and pinned != self.version:
                self._warn_once(
                    f"version:{run_id}",
                    f"run {run_id} is pinned to version {pinned} of {run.workflow_name}; this worker has "
                    f"{self.version}. It waits for a worker with that code (start one from the code the "
                    "run began with).",
                )
                await self._hand_back(run_id, active, self._now() + 5_000)
                return
            machine = self._new_machine(run, definition)
            machine.replay(events, self._now())
            # The run's trace context, for its step attempts' spans (OpenTelemetry, when installed).
            trace_run(machine, events)
        realm = machine.workflow
        own_bodies = definition.step_bodies(realm)

        def step_body(name: str) -> StepBody | None:
            return own_bodies(name) or self._step_body(name)

        host = DriverHost(
            client=client,
            owner=owner,
            step_slots=self._slots,
            per_run_concurrency=self.options.per_run_concurrency,
            hold_ms=self.options.hold_ms,
            now=self._now,
            warn=self._warn,
            step_body=step_body,
            step_extra={"client": client, "payloads": machine.payloads},
        )
        driver = RunDriver(machine, host, active.anchors, run.status)
        if inbox is not None and not active.inbox_hinted:
            driver.prime_inbox(inbox)
        active.driver = driver
        if not self._running:
            driver.request_stop()
        outcome: DriveOutcome = await driver.drive()
        active.anchors = driver.anchors
        if outcome == "suspended" and not machine.finished:
            self._cache[run_id] = machine
            self._cache.move_to_end(run_id)
            while len(self._cache) > self.options.cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.pop(run_id, None)
        if outcome == "finished":
            self.runs_finished += 1
        if outcome in ("suspended", "finished", "paused"):
            # Messages that came while the run was let go are answered by a new lease.
            await self._release_messages(active, self._now())
        elif outcome == "stopped":
            await self._hand_back(run_id, active, self._now())
        elif outcome == "deferred":
            # It needs code (or a key) this worker lacks: back to the queue for another worker.
            await self._hand_back(run_id, active, self._now() + 2_000)

    def _cached_machine(self, run: RunRecord) -> RunMachine | None:
        machine = self._cache.pop(run.run_id, None)
        if machine is not None and machine.seq == run.seq and not machine.finished:
            machine.bytes = run.payload_bytes
            return machine
        return None

    def _new_machine(self, run: RunRecord, definition: RunDefinition) -> RunMachine:
        payloads = BoundPayloads(self.payloads, run.run_id, run.encrypted, run.spec_version)
        options = MachineOptions(
            run=RunInfo(run.run_id, run.workflow_name, run.created_at, run.seed, self.version),
            payloads=payloads,
            codec=self._codec,
            workflow=definition.realm,
            input_text=payloads.open(places.RUN_INPUT, run.input),
            payload_bytes=run.payload_bytes,
            max_run_bytes=self.options.max_run_bytes,
            now=self._now,
            public_url=self.options.public_url,
        )
        return RunMachine(options)

    async def _hand_back(self, run_id: str, active: _Active, available_at: int) -> None:
        if active.leased:
            if not await self.client.runs_release(run_id, self.worker_id):
                await self.client.runs_release(run_id, self.worker_id)
        await self._release_messages(active, available_at)

    async def _release_messages(self, active: _Active, available_at: int) -> None:
        for message_id in active.anchors:
            await self.client.queue_release(self.worker_id, message_id, available_at=available_at)
        active.anchors = []

    async def _heartbeat(self) -> None:
        beat = max(0.05, self.options.lease_ms / 4 / 1000)
        while True:
            await asyncio.sleep(beat)
            if not self.worker_id:
                continue
            try:
                leased = [run_id for run_id, active in self._active.items() if active.leased]
                if leased:
                    held = set(await self.client.runs_renew(self.worker_id, leased, self.options.lease_ms))
                    for run_id in leased:
                        if run_id not in held:
                            driver = self._active[run_id].driver if run_id in self._active else None
                            if driver is not None:
                                driver.abandon()
                anchors = [
                    anchor
                    for active in self._active.values()
                    for anchor in (active.driver.anchors if active.driver is not None else active.anchors)
                ]
                if anchors:
                    await self.client.queue_extend(self.worker_id, anchors, self.options.lease_ms)
            except StepwiseError as error:
                self._warn(f"renewing leases failed: {error}")


def _pause_lifted(items: list[InboxItem]) -> bool:
    return any(item.kind in ("resume", "cancel", "restart") for item in items)
