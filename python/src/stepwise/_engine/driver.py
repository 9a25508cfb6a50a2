"""Drives one run while this worker holds its lease (src/runtime/driver.ts, in Python).

It delivers outcomes to the machine, executes the steps the workflow calls (each attempt a task on
the worker's loop, at most `per_run_concurrency` at once), applies what comes due (retries,
sleeps, event timeouts), reads the run's inbox (hook payloads, events, cancel, pause, resume,
restart), and commits the machine's outbox with ONE fenced append per step outcome. It lets the
run go when nothing is left to do soon (a wake-up message for the next due time), when the run
ends, pauses, or is stopped; a conflict or lost lease means another worker has the run: it stops
at once and never retries the write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from .._protocol import (
    ConflictError,
    HookTokenConflictError,
    LeaseLostError,
    NewEvent as WireEvent,
    NewMessage,
    ProtocolClient,
)
from .._protocol.records import InboxItem
from .._serde import PayloadDecryptionError, places
from .events import NewEvent, StoredEvent
from .executor import StepBody, StepOutcome, execute_step
from .tracing import attempt_span, committed, end_attempt, observing, registered_tracer
from .machine import IncomingEvent, RunMachine, StepTask
from .retry import INTERRUPTION_ALLOWANCE

DriveOutcome = Literal["finished", "suspended", "lost", "stopped", "deferred", "paused"]

#: Events the driver records itself (not the machine's outbox).
CONTROL_TYPES = frozenset({"run_pausing", "run_paused", "run_resumed", "step_unavailable"})


@dataclass(slots=True)
class DriverHost:
    """What a driver needs from its worker."""

    client: ProtocolClient
    owner: str
    step_slots: asyncio.Semaphore
    per_run_concurrency: int
    #: A run whose next due time is further than this is let go (a wake-up message brings it back).
    hold_ms: int
    now: Callable[[], int]
    warn: Callable[[str], None]
    #: The body of a step by name, or None when this worker does not have it.
    step_body: Callable[[str], StepBody | None]
    #: Extra fields the step context carries (stream writers).
    step_extra: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class _Result:
    step: StepTask
    attempt: int
    outcome: StepOutcome | None  # None: the attempt was cancelled; nothing to record


class RunDriver:
    """See the module docstring."""

    def __init__(self, machine: RunMachine, host: DriverHost, anchors: list[str], status: str) -> None:
        self.machine = machine
        self.host = host
        self.anchors = anchors
        self.run_id = machine.run.run_id
        self.steps_completed = 0
        self.ended: NewEvent | None = None
        self.deferral: BaseException | None = None
        self.missing_step: tuple[str, str] | None = None
        self._lost = False
        self._results: list[_Result] = []
        self._running = 0
        self._in_flight: set[asyncio.Task[None]] = set()
        self._inbox_dirty = True
        self._primed: list[InboxItem] | None = None
        self._consumed: list[str] = []
        self._control: list[NewEvent] = []
        self._pause: Literal["none", "pausing", "paused"] = (
            "paused" if status == "paused" else "pausing" if status == "pausing" else "none"
        )
        self._cancel_requested = False
        self._cancel_reason: str | None = None
        self._stop_requested = False
        self._event_waits_seen = 0
        self._signal = asyncio.Event()

    # ---- what the worker calls -----------------------------------------------------------------

    def prime_inbox(self, items: list[InboxItem]) -> None:
        """The inbox as read with the lease: the first look takes it instead of reading again."""
        self._primed = items

    def notify_inbox(self) -> None:
        """Something was put in the run's inbox (or a message came for it): look again."""
        self._inbox_dirty = True
        self._primed = None
        self._wake()

    def request_stop(self) -> None:
        """The worker is stopping: finish the steps in flight, record them, let the run go."""
        self._stop_requested = True
        self._wake()

    def abandon(self) -> None:
        """The lease was lost: stop at once, record nothing more."""
        self._lost = True
        self._cancel_in_flight()
        self._wake()

    @property
    def running_steps(self) -> int:
        return self._running

    def _wake(self) -> None:
        self._signal.set()

    def _cancel_in_flight(self) -> None:
        for task in list(self._in_flight):
            task.cancel()

    @property
    def _cancelling(self) -> bool:
        return self._cancel_requested

    # ---- the loop ------------------------------------------------------------------------------

    async def drive(self) -> DriveOutcome:
        try:
            return await self._loop()
        except (ConflictError, LeaseLostError):
            # Another worker moved the run on (took the lease, appended, or ended it): theirs now.
            self._lost = True
            return "lost"
        finally:
            self._cancel_in_flight()

    async def _loop(self) -> DriveOutcome:
        machine = self.machine
        while True:
            if self._lost:
                return "lost"
            machine.deliver_pending()
            await self._apply_results()
            if self._pause == "none":
                await self._apply_due()
            self._note_new_event_waits()
            if self._inbox_dirty and not machine.finished:
                await self._read_inbox()
            if self._pause == "none":
                await self._apply_event_timeouts()
            if self._lost:
                return "lost"
            if machine.finished or self._cancel_requested:
                self._cancel_in_flight()
                await self._finish()
                return "finished"
            if self._pause != "none" and self._running == 0 and not self._results:
                machine.drop_unstarted_calls()
                recorded = any(event.type == "run_paused" for event in self._control)
                if self._pause == "pausing" and not recorded:
                    self._control.append(NewEvent("run_paused", {}, None, machine.event_time()))
                released = await self._commit(release=True, pause=True)
                self._pause = "paused"
                if not released:
                    await self._let_go(asked=True)
                return "paused"
            if self._stop_requested and self._running == 0 and not self._results:
                machine.drop_unstarted_calls()
                await self._commit(release=True)
                return "stopped" if self.deferral is None and self.missing_step is None else "deferred"
            if not self._stop_requested and self._pause == "none" and self._lacks_step_code():
                continue
            holding = self._stop_requested or self._pause != "none"
            if machine.outbox_size > 0 or self._consumed or self._control:
                await self._commit(before_new_steps=holding)
                if machine.finished:
                    continue
            if not holding:
                self._launch_queued()
            self._note_new_event_waits()
            busy = self._running > 0 or bool(self._results) or bool(machine.pending)
            due = machine.next_due_at() if self._pause == "none" else None
            if not busy and not self._inbox_dirty and not self._stop_requested:
                if due is None or due - self.host.now() > self.host.hold_ms:
                    if await self._commit(release=True, wake_at=due):
                        return "suspended"
                    self._inbox_dirty = True
                    continue
            if self._results or self._inbox_dirty or machine.pending:
                continue
            if due is not None and due <= self.host.now():
                continue
            await self._wait_for_signal(due)

    async def _wait_for_signal(self, due: int | None) -> None:
        # An Event and one timer handle: `asyncio.wait_for` would wrap the wait in a task of its
        # own, once per step (this runs between every step's outcome and the next append).
        signal = self._signal
        signal.clear()
        if due is None:
            await signal.wait()
            return
        delay = max(0.0, (due - self.host.now()) / 1000 + 0.001)
        timer = asyncio.get_running_loop().call_later(delay, signal.set)
        try:
            await signal.wait()
        finally:
            timer.cancel()

    async def _apply_results(self) -> None:
        machine = self.machine
        while self._results and not machine.finished and not self._lost:
            result = self._results.pop(0)
            step, outcome = result.step, result.outcome
            if machine.steps.get(step.id) is not step or step.attempt != result.attempt or outcome is None:
                continue
            now = self.host.now()
            if outcome.ok:
                self.steps_completed += 1
                machine.complete_step(step, outcome.text, now, outcome.logs)
            elif outcome.decision is not None and outcome.decision.retry:
                machine.retry_step(step, outcome.text, outcome.decision.retry_at, now, outcome.logs)
            else:
                fatal = outcome.decision.fatal if outcome.decision is not None else True
                machine.fail_step(step, outcome.text, fatal, now, outcome.logs)
            if machine.has_uncommitted_hook:
                await self._commit()

    async def _apply_due(self) -> None:
        machine = self.machine
        now = self.host.now()
        for step in list(machine.steps.values()):
            if step.status == "retrying" and step.retry_at is not None and step.retry_at <= now:
                machine.next_attempt(step, now)
            elif step.status == "queued" and step.interrupted:
                step.interrupted = False
                body = self.host.step_body(step.name)
                limit = (body.policy.max_attempts if body is not None else 1) + INTERRUPTION_ALLOWANCE
                if step.attempt >= limit:
                    error = RuntimeError(
                        f"Step {step.name} was interrupted {step.attempt} times: the worker running it "
                        f"stopped or died before it finished (attempt {step.attempt}). Check that the "
                        "step does not crash its process (memory, native code)."
                    )
                    machine.fail_step(step, machine.codec.error_text(error), False, now)
                else:
                    machine.next_attempt(step, now)
        for wait_id, resume_at in list(machine.waits.items()):
            if machine.finished or self._lost:
                return
            if resume_at <= now:
                machine.complete_wait(wait_id, now)
                if machine.has_uncommitted_hook:
                    await self._commit()

    def _note_new_event_waits(self) -> None:
        if self.machine.event_waits_made == self._event_waits_seen:
            return
        self._event_waits_seen = self.machine.event_waits_made
        self._inbox_dirty = True

    async def _apply_event_timeouts(self) -> None:
        machine = self.machine
        now = self.host.now()
        for wait_id, wait in list(machine.event_waits.items()):
            if machine.finished or self._lost or self._inbox_dirty:
                return
            if wait.timeout_at > now or wait_id not in machine.event_waits:
                continue
            machine.time_out_event_wait(wait_id, now)
            if machine.has_uncommitted_hook:
                await self._commit()

    async def _read_inbox(self) -> None:
        self._inbox_dirty = False
        self._event_waits_seen = self.machine.event_waits_made
        primed, self._primed = self._primed, None
        items = primed if primed is not None else list(await self.host.client.inbox_list(self.run_id))
        for item in items:
            if self.machine.finished or self._lost:
                return
            if item.item_id in self._consumed:
                continue
            if item.kind in ("cancel", "restart"):
                self._consumed.append(item.item_id)
                if item.kind == "restart" and item.generation is not None and item.generation != self.machine.generation:
                    continue
                self._cancel_requested = True
                if item.kind == "restart":
                    self._cancel_reason = "restart"
                return
            if item.kind in ("pause", "pause_abort", "resume"):
                self._consumed.append(item.item_id)
                self._take_control(item.kind)
                continue
            if self._pause != "none" or self.deferral is not None:
                continue
            if item.kind == "event":
                if not self._receive_event(item):
                    continue
            elif item.hook_id is not None and item.payload is not None:
                try:
                    self.machine.receive_hook(item.hook_id, item.payload, item.item_id, self.host.now())
                except PayloadDecryptionError as error:
                    self.deferral = error
                    self._stop_requested = True
                    continue
            self._consumed.append(item.item_id)
            if self.machine.has_uncommitted_hook:
                await self._commit()

    def _receive_event(self, item: InboxItem) -> bool:
        if item.event_type is None or item.payload is None:
            return False
        wait_id = self.machine.event_wait_for(item.event_type, item.created_at)
        if wait_id is None:
            return False
        incoming = IncomingEvent(item.item_id, item.event_type, item.payload, item.created_at)
        try:
            self.machine.receive_event(wait_id, incoming, self.host.now())
            return True
        except PayloadDecryptionError as error:
            self.deferral = error
            self.request_stop()
            return False

    def _take_control(self, kind: str) -> None:
        at = self.machine.event_time()
        if kind == "resume":
            if self._pause == "none":
                return
            self._pause = "none"
            pending = next((i for i, e in enumerate(self._control) if e.type == "run_pausing"), -1)
            if pending != -1:
                del self._control[pending]
            else:
                self._control.append(NewEvent("run_resumed", {}, None, at))
            self._inbox_dirty = True
            return
        if kind == "pause_abort":
            self._cancel_in_flight()
        if self._pause != "none":
            return
        self._pause = "pausing"
        data: dict[str, object] = {"abortSteps": True} if kind == "pause_abort" else {}
        self._control.append(NewEvent("run_pausing", data, None, at))

    def _lacks_step_code(self) -> bool:
        for step in self.machine.steps.values():
            if step.status != "queued" or step.interrupted:
                continue
            if self.host.step_body(step.name) is not None:
                continue
            self.missing_step = (step.id, step.name)
            if self.machine.unavailable_step != step.id:
                data: dict[str, object] = {"stepId": step.id, "stepName": step.name}
                self._control.append(NewEvent("step_unavailable", data, None, self.machine.event_time()))
            self._stop_requested = True
            return True
        return False

    def _launch_queued(self) -> None:
        for step in list(self.machine.steps.values()):
            if self._running >= self.host.per_run_concurrency:
                return
            if step.status != "queued" or step.interrupted:
                continue
            step.status = "running"
            self._running += 1
            task = asyncio.create_task(self._attempt(step, step.attempt))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _attempt(self, step: StepTask, attempt: int) -> None:
        outcome: StepOutcome | None = None
        try:
            async with self.host.step_slots:
                body = self.host.step_body(step.name)
                if registered_tracer() is None:
                    outcome = await execute_step(
                        self.machine.run, step, body, self.machine.codec, self.host.now, self.host.step_extra
                    )
                else:
                    # Traced: the attempt's span is current in the step body (tracing.py).
                    with attempt_span(self.machine, step) as span:
                        outcome = await execute_step(
                            self.machine.run, step, body, self.machine.codec, self.host.now, self.host.step_extra
                        )
                        end_attempt(span, outcome, self.host.now(), self.machine.codec)
        except asyncio.CancelledError:
            outcome = None
        finally:
            self._running -= 1
            self._results.append(_Result(step, attempt, outcome))
            self._wake()

    async def _finish(self) -> None:
        machine = self.machine
        at = machine.event_time()
        seal = machine.payloads.seal
        if self._cancelling:
            data: dict[str, object] = {} if self._cancel_reason is None else {"reason": self._cancel_reason}
            terminal = NewEvent("run_cancelled", data, None, at)
        elif machine.fatal is not None:
            error = machine.codec.error_text(machine.fatal)
            terminal = NewEvent(
                "run_failed", {"reason": "non_determinism"}, seal(places.RUN_ERROR, error, "the run's error"), at
            )
        elif machine.settlement is not None and machine.settlement.ok:
            try:
                output = machine.store(
                    places.RUN_OUTPUT, machine.settlement.text, f"The return value of workflow {machine.run.workflow_name}"
                )
                terminal = NewEvent("run_completed", {}, output, at)
            except Exception as failure:
                text = machine.codec.error_text(failure)
                terminal = NewEvent("run_failed", {}, seal(places.RUN_ERROR, text, "the run's error"), at)
        else:
            text = (
                machine.settlement.text
                if machine.settlement is not None
                else machine.codec.error_text(RuntimeError("unknown failure"))
            )
            terminal = NewEvent("run_failed", {}, seal(places.RUN_ERROR, text, "the run's error"), at)
        await self._commit(release=True, terminal=terminal)
        self.ended = terminal

    def _restore(self, events: list[NewEvent]) -> None:
        self._control = [e for e in events if e.type in CONTROL_TYPES] + self._control
        self.machine.restore_outbox([e for e in events if e.type not in CONTROL_TYPES])

    async def _let_go(self, asked: bool) -> None:
        wanted = asked
        for _ in range(20):
            if await self.host.client.runs_release(self.run_id, self.host.owner):
                break
            wanted = True
        if wanted:
            await self.host.client.queue_enqueue([NewMessage(self.run_id, "wake", dedupe_key=f"let-go:{self.run_id}")])

    async def _commit(
        self,
        *,
        release: bool = False,
        wake_at: int | None = None,
        terminal: NewEvent | None = None,
        before_new_steps: bool = False,
        pause: bool = False,
    ) -> bool:
        """Appends the outbox (and `terminal`), fenced on the run's seq and the lease; with
        `release`, also acks the anchors, schedules the wake-up and lets the run go (returns
        whether it was let go). A hook token clash turns that hook into a conflict and retries."""
        machine = self.machine
        while True:
            events = machine.take_outbox_before_new_steps() if before_new_steps else machine.take_outbox()
            events += self._control
            self._control = []
            if terminal is not None:
                events.append(terminal)
            unrecorded = machine.inbox_items_in_outbox()
            consumed = [item for item in self._consumed if item not in unrecorded]
            if not events and not consumed and not release:
                return False
            ack: list[str] | None = None
            enqueue: list[NewMessage] | None = None
            if release:
                if not self._stop_requested or pause:
                    ack = list(self.anchors)
                if wake_at is not None and terminal is None:
                    enqueue = [NewMessage(self.run_id, "wake", dedupe_key=f"wake:{self.run_id}:{wake_at}", available_at=wake_at)]
            # What the workflow body printed since the last append travels on its first event.
            workflow_logs = machine.take_workflow_logs() if events else None
            wire = [WireEvent(e.type, _json(e.data), e.payload, e.created_at) for e in events]
            if workflow_logs is not None:
                first = events[0]
                wire[0] = WireEvent(
                    first.type, _json({**first.data, "workflowLogs": workflow_logs[0]}), first.payload, first.created_at
                )
            try:
                result = await self.host.client.events_append(
                    self.run_id,
                    machine.seq,
                    wire,
                    owner=self.host.owner,
                    enqueue=enqueue,
                    consume_inbox=consumed or None,
                    ack=ack or None,
                    release_lease=True if release else None,
                    # No echo: the events are those just sent, numbered up to the answer's seq.
                    return_events=False,
                )
            except HookTokenConflictError as error:
                if workflow_logs is not None:
                    machine.return_workflow_logs(workflow_logs[1])
                if error.token is not None and machine.convert_hook_conflict(events, error.token, error.held_by_run_id):
                    if terminal is not None:
                        events.pop()
                    self._restore(events)
                    if release and terminal is None:
                        return False
                    if terminal is None:
                        machine.deliver_pending()
                    continue
                self._restore(events[:-1] if terminal is not None else events)
                self._lost = True
                raise
            except BaseException:
                if workflow_logs is not None:
                    machine.return_workflow_logs(workflow_logs[1])
                self._restore(events[:-1] if terminal is not None else events)
                self._lost = True
                raise
            machine.committed(result.seq)
            if observing(machine):
                # Spans of the waits and the run these events end (tracing.py; only with OpenTelemetry).
                seq0, now = result.seq - len(wire) + 1, self.host.now()
                stored = [
                    StoredEvent(seq0 + i, e.type, e.data, e.payload, e.created_at if e.created_at is not None else now)
                    for i, e in enumerate(wire)
                ]
                committed(machine, stored)
            machine.bytes = result.run.payload_bytes + machine.outbox_bytes
            self._consumed = [item for item in self._consumed if item not in consumed]
            if release and (not self._stop_requested or pause):
                self.anchors = []
            return bool(result.lease_released)


def _json(data: Mapping[str, object]) -> dict[str, object]:
    """Event metadata as the wire takes it (a plain JSON object)."""
    return dict(data)
