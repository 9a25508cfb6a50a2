"""One run's workflow, alive on its deterministic loop: the bridge between the workflow's calls
and the event log (src/runtime/machine.ts, in Python). It replays a log — checking every call
against it and failing loudly on divergence — and in live mode turns new calls into events and
outcomes into deliveries. It does no I/O: the driver commits its outbox, executes its steps and
feeds it outcomes.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from .calls import (
    Command,
    Delivery,
    EventCommand,
    HookCommand,
    Receipt,
    SleepCommand,
    StepCommand,
    describe_command,
)
from .errors import HookTokenInUseError, NonDeterminismError, RunTooLargeError
from .events import CALL_TYPES, OUTCOME_TYPES, LoggedEvent, NewEvent, data_int, data_str
from .ids import derived_id, derived_token, new_id
from .output import CapturedLogs, LogBuffer, WorkflowOutput, wall_ms
from .plan import PlannedCall, delivery_target, describe_call, describe_id, plan_replay
from .._serde import places as Places
from .ports import RunPayloads, ValueCodec


class WorkflowSide(Protocol):
    """The workflow code's side of a run (`realm.py`): started once, then handed outcomes."""

    def start(self, args_text: str) -> None: ...

    def deliver(self, delivery: Delivery, at: int) -> None: ...


@dataclass(slots=True)
class RunInfo:
    """What the machine knows of its run."""

    run_id: str
    workflow_name: str
    created_at: int
    seed: str
    #: The version of the workflow code this worker replays it with (pinned at `run_started`).
    version: str


@dataclass(slots=True)
class StepTask:
    """A step call waiting to be executed, executing, or waiting for its next attempt."""

    id: str
    name: str
    #: Codec text of the arguments.
    args: str
    attempt: int
    status: Literal["queued", "running", "retrying"]
    retry_at: int | None = None
    #: The attempt before this one was interrupted (its worker died), not failed.
    interrupted: bool = False


@dataclass(slots=True)
class EventWait:
    """A `wait_for_event` that has neither received its event nor timed out."""

    event_type: str
    timeout_at: int


@dataclass(slots=True)
class HookState:
    token: str
    disposed: bool
    #: Its hook_created is in the outbox, not committed yet.
    uncommitted: bool


@dataclass(slots=True, frozen=True)
class IncomingEvent:
    """An event from the run's inbox: its item id (the event's id), type, stored payload, time sent."""

    item_id: str
    event_type: str
    payload: bytes
    sent_at: int


@dataclass(slots=True, frozen=True)
class Divergence:
    """Where a replay left the log: the event and both sides, in words."""

    seq: int | None
    log_has: str
    code_makes: str


@dataclass(slots=True)
class Settlement:
    ok: bool
    #: Codec text of the return value, or of the error.
    text: str


@dataclass(slots=True)
class MachineOptions:
    run: RunInfo
    payloads: RunPayloads
    codec: ValueCodec
    #: Builds the workflow side for this machine (it calls back `command`, `settle`, …).
    workflow: Callable[[RunMachine], WorkflowSide]
    #: Codec text of the workflow's arguments (the run's input).
    input_text: str
    #: Bytes stored for the run so far (`RunRecord.payloadBytes`), for the per-run limit.
    payload_bytes: int
    max_run_bytes: int
    #: The clock events are stamped with (epoch ms).
    now: Callable[[], int]
    #: Where webhooks are reachable (STEPWISE_PUBLIC_URL), for their URLs.
    public_url: str = "http://localhost:3000/stepwise"


class RunMachine:
    """See the module docstring. The driver calls the live-mode methods; the workflow side calls
    `command`, `dispose_hook` and `settle`."""

    def __init__(self, options: MachineOptions) -> None:
        self.options = options
        self.run = options.run
        self.payloads = options.payloads
        self.codec = options.codec
        #: Sequence number of the last committed event.
        self.seq = 1
        #: The run's generation (1 until it is first restarted): new calls derive ids with it.
        self.generation = 1
        self.steps: dict[str, StepTask] = {}
        self.waits: dict[str, int] = {}
        #: Event waits still waiting, in call order (the first matching one takes an event).
        self.event_waits: dict[str, EventWait] = {}
        self.event_waits_made = 0
        self.hooks: dict[str, HookState] = {}
        self.settlement: Settlement | None = None
        #: Set when the engine must fail the run (non-determinism, code that cannot load).
        self.fatal: Exception | None = None
        self.divergence: Divergence | None = None
        #: Outcomes decided at call or commit time, delivered before anything else.
        self.pending: list[tuple[Delivery, int]] = []
        #: Bytes stored for the run: as of the last commit, plus what the outbox added since.
        self.bytes = options.payload_bytes
        #: The step the log's last event says the run waits for a worker to have (step_unavailable).
        self.unavailable_step: str | None = None
        self._outbox: list[NewEvent] = []
        self._index = 0
        self._expected: list[PlannedCall] | None = None
        self._deliveries_left = 0
        self._kept_deliveries_left = 0
        self._clock = self.run.created_at
        self._started = False
        self._replaying = False
        self._next_delivery_seq: int | None = None
        self._resolved: set[str] = set()
        #: The workflow's output while replaying was stored already: the replayed generation has its
        #: `run_started` (output travels with the append of the events it followed). Before that,
        #: a replay runs the code for the first time as far as the log knows, and its output is new.
        self._output_recorded = False
        #: What the workflow body printed since the last append (`take_workflow_logs`).
        self._output: LogBuffer | None = None
        #: Where the workflow body's prints go (the realm puts it in the workflow's context).
        self.workflow_output = WorkflowOutput(self._output_buffer, lambda: self._replaying and self._output_recorded)
        self.workflow = options.workflow(self)

    # ---- state ---------------------------------------------------------------------------------

    @property
    def replaying(self) -> bool:
        """True while the workflow is being replayed from the log."""
        return self._replaying

    @property
    def finished(self) -> bool:
        return self.settlement is not None or self.fatal is not None

    # ---- replay --------------------------------------------------------------------------------

    def replay(self, events: Sequence[LoggedEvent], now: int) -> None:
        """Replays the log from the start (a fresh machine), leaving it live at its end. A run
        whose current generation has no `run_started` yet is started here, pinned to this code."""
        plan = plan_replay(events)
        self._clock = max(self._clock, plan.last_event_at)
        if not plan.started:
            data: dict[str, object] = {} if pinned_version(events) is not None else {"bundleHash": self.run.version}
            self._push(NewEvent("run_started", data, None, self._advance(now)))
        self.seq = events[-1].seq if events else 1
        last = events[-1] if events else None
        self.unavailable_step = (
            data_str(last, "stepId") if last is not None and last.type == "step_unavailable" else None
        )
        self.generation = plan.generation
        self._expected = plan.calls
        self._deliveries_left = len(plan.deliveries)
        self._kept_deliveries_left = plan.kept_deliveries
        self._output_recorded = plan.started
        self._replaying = True
        try:
            self._start_workflow()
            for event in plan.deliveries:
                if self.finished:
                    break
                self._deliveries_left -= 1
                if self._kept_deliveries_left > 0:
                    self._kept_deliveries_left -= 1
                target = delivery_target(event)
                self._next_delivery_seq = event.seq
                if not self._issued(target):
                    self._diverge(
                        f"the log has an outcome for {describe_id(target)} (event {event.seq}), but the "
                        "workflow never made that call before it",
                        Divergence(event.seq, f"an outcome for {describe_id(target)}", "no such call"),
                    )
                    break
                self._deliver(self._delivery_for(event), event.created_at)
            if not self.finished and self._index < len(plan.calls):
                missing = plan.calls[self._index]
                self._diverge(
                    f"the log records {describe_call(missing)} as call #{self._index + 1}, but the "
                    "workflow did not make it",
                    Divergence(missing.seq, describe_call(missing), "no call (the workflow did not make it)"),
                )
        finally:
            self._replaying = False
            self._expected = None
            self._clock = max(self._clock, plan.last_event_at)

    def _issued(self, call_id: str) -> bool:
        return (
            call_id in self.steps
            or call_id in self.waits
            or call_id in self.event_waits
            or call_id in self.hooks
            or call_id in self._resolved
        )

    def _delivery_for(self, event: LoggedEvent) -> Delivery:
        call_id = delivery_target(event)
        kind = event.type
        if kind == "step_completed":
            self._resolve_step(call_id)
            return Delivery("step_completed", call_id, self._text(event, Places.step_result(call_id)))
        if kind == "step_failed":
            self._resolve_step(call_id)
            return Delivery("step_failed", call_id, self._text(event, Places.step_error(call_id)))
        if kind == "wait_completed":
            self.waits.pop(call_id, None)
            self._resolved.add(call_id)
            return Delivery("wait_completed", call_id)
        if kind == "event_received":
            self._resolve_event_wait(call_id)
            place = Places.event_payload(data_str(event, "eventId"), data_str(event, "eventType"))
            return Delivery("event_received", call_id, self._text(event, place), data_int(event, "sentAt"))
        if kind == "event_wait_timed_out":
            self._resolve_event_wait(call_id)
            return Delivery("event_timed_out", call_id)
        if kind == "hook_received":
            inbox_id = event.data.get("inboxId")
            place = Places.hook_payload(call_id, inbox_id if isinstance(inbox_id, str) else "")
            return Delivery("hook_received", call_id, self._text(event, place))
        # hook_conflict
        held = event.data.get("heldByRunId")
        return Delivery(
            "hook_conflict", call_id, self._conflict_text(data_str(event, "token"), held if isinstance(held, str) else None)
        )

    def _text(self, event: LoggedEvent, place: str) -> str:
        if event.payload is None:
            return self.codec.stringify(None)
        return self.payloads.open(place, event.payload)

    def _conflict_text(self, token: str, held_by: str | None) -> str:
        return self.codec.error_text(HookTokenInUseError(token, held_by))

    def _resolve_event_wait(self, call_id: str) -> None:
        self.event_waits.pop(call_id, None)
        self._resolved.add(call_id)

    def _resolve_step(self, call_id: str) -> None:
        self.steps.pop(call_id, None)
        self._resolved.add(call_id)

    def _start_workflow(self) -> None:
        if self._started:
            return
        self._started = True
        self.workflow.start(self.options.input_text)

    def _advance(self, at: int) -> int:
        self._clock = max(self._clock, at)
        return self._clock

    def event_time(self) -> int:
        """The time to stamp an event written now: the clock, never before the log's last event."""
        return self._advance(self.options.now())

    def _deliver(self, delivery: Delivery, at: int) -> None:
        self.workflow.deliver(delivery, at)
        self.deliver_pending()

    def _push(self, event: NewEvent) -> None:
        self._outbox.append(event)

    # ---- what the workflow side calls ----------------------------------------------------------

    def settle(self, ok: bool, text: str) -> None:
        """The workflow returned (`ok`) or raised; `text` is the value's or the error's codec text."""
        if self.fatal is None and self.settlement is None:
            self.settlement = Settlement(ok, text)

    def command(self, command: Command) -> Receipt:
        """A call the workflow makes: checked against the log while replaying, recorded after."""
        index = self._index
        self._index += 1
        expected = None if self._expected is None or index >= len(self._expected) else self._expected[index]
        generation = expected.generation if expected is not None else self.generation
        prefix: Literal["step", "wait", "hook"] = (
            "step" if isinstance(command, StepCommand) else "hook" if isinstance(command, HookCommand) else "wait"
        )
        call_id = derived_id(prefix, self.run.seed, self.run.created_at, index, generation)
        token: str | None = None
        url: str | None = None
        if isinstance(command, HookCommand):
            token = command.token if command.token is not None else derived_token(self.run.seed, index)
            if command.webhook:
                url = f"{self.options.public_url.rstrip('/')}/webhooks/{_quote(token)}"
        receipt = Receipt(call_id, token, url)
        if self.finished:
            return receipt
        if expected is not None:
            mismatch = self._mismatch(expected, command, call_id, token)
            if mismatch is not None:
                self._diverge(
                    f"call #{index + 1} was {describe_call(expected)} when the log was written, but the "
                    f"workflow now makes {mismatch}",
                    Divergence(expected.seq, describe_call(expected), mismatch),
                )
                return receipt
            self._restore(expected, command)
            return receipt
        if self._replaying and self._deliveries_left > self._kept_deliveries_left:
            self._diverge(
                f"the workflow makes {describe_command(command)} as call #{index + 1}, which the log "
                "does not have at that point",
                Divergence(self._next_delivery_seq, "an outcome of an earlier call next", describe_command(command)),
            )
            return receipt
        at = self.event_time()
        if isinstance(command, StepCommand):
            self._new_step(call_id, command, at)
        elif isinstance(command, SleepCommand):
            self.waits[call_id] = command.resume_at
            self._push(NewEvent("wait_created", {"waitId": call_id, "resumeAt": command.resume_at}, None, at))
        elif isinstance(command, EventCommand):
            self.event_waits[call_id] = EventWait(command.event_type, command.timeout_at)
            self.event_waits_made += 1
            data: dict[str, object] = {
                "waitId": call_id,
                "eventType": command.event_type,
                "timeoutAt": command.timeout_at,
            }
            self._push(NewEvent("event_wait_created", data, None, at))
        else:
            self._new_hook(call_id, token or "", command, at)
        return receipt

    def _new_step(self, call_id: str, command: StepCommand, at: int) -> None:
        started: dict[str, object] = {"stepId": call_id, "stepName": command.name, "attempt": 1}
        try:
            payload = self.store(Places.step_args(call_id), command.args, f"The arguments of step {command.name}")
        except Exception as error:
            # Recorded, and refused at once: the workflow's await raises the error.
            text = self.codec.error_text(error)
            self._push(NewEvent("step_started", started, None, at))
            failed: dict[str, object] = {"stepId": call_id, "attempt": 1, "fatal": True}
            self._push(NewEvent("step_failed", failed, self._store_error(call_id, text), at))
            self._resolved.add(call_id)
            self.pending.append((Delivery("step_failed", call_id, text), at))
            return
        self.steps[call_id] = StepTask(call_id, command.name, command.args, 1, "queued")
        self._push(NewEvent("step_started", started, payload, at))

    def _new_hook(self, call_id: str, token: str, command: HookCommand, at: int) -> None:
        clash = any(hook.token == token and not hook.disposed for hook in self.hooks.values())
        self.hooks[call_id] = HookState(token, disposed=clash, uncommitted=not clash)
        if clash:
            data: dict[str, object] = {"hookId": call_id, "token": token, "heldByRunId": self.run.run_id}
            self._push(NewEvent("hook_conflict", data, None, at))
            self.pending.append((Delivery("hook_conflict", call_id, self._conflict_text(token, self.run.run_id)), at))
            return
        created: dict[str, object] = {
            "hookId": call_id,
            "token": token,
            "kind": "webhook" if command.webhook else "hook",
        }
        self._push(NewEvent("hook_created", created, None, at))

    def _mismatch(self, call: PlannedCall, command: Command, call_id: str, token: str | None) -> str | None:
        """How the call the workflow makes now differs from the one the log recorded, if it does."""
        if call.id != call_id:
            return describe_command(command)
        if call.kind == "step":
            if not isinstance(command, StepCommand) or command.name != call.name:
                return describe_command(command)
            if call.args_payload is not None:
                recorded = self.payloads.open(Places.step_args(call.id), call.args_payload)
                if recorded != command.args:
                    return (
                        f'step "{command.name}" with other arguments (the log has '
                        f"{self._readable(recorded)}, the code passes {self._readable(command.args)})"
                    )
            return None
        if call.kind == "sleep":
            return None if isinstance(command, SleepCommand) else describe_command(command)
        if call.kind == "event":
            ok = isinstance(command, EventCommand) and command.event_type == call.name
            return None if ok else describe_command(command)
        ok = isinstance(command, HookCommand) and call.name == token
        return None if ok else describe_command(command)

    def _readable(self, text: str) -> str:
        """Arguments as a person reads them (Python's repr of the values), cut to a line."""
        try:
            return _clip(repr(self.codec.parse(text)))
        except Exception:
            return _clip(text)

    def _restore(self, call: PlannedCall, command: Command) -> None:
        if call.kind == "step":
            if call.status == "resolved":
                self.steps[call.id] = StepTask(call.id, call.name, "", call.attempt, "running")
                return
            args = command.args if isinstance(command, StepCommand) else "[]"
            self.steps[call.id] = StepTask(
                call.id,
                call.name,
                args,
                call.attempt,
                "retrying" if call.status == "retrying" else "queued",
                call.retry_at,
                # An attempt with no outcome in the log was interrupted: it runs again.
                interrupted=call.status == "running",
            )
        elif call.kind == "sleep":
            self.waits[call.id] = call.due_at
        elif call.kind == "event":
            self.event_waits[call.id] = EventWait(call.name, call.due_at)
            self.event_waits_made += 1
        else:
            self.hooks[call.id] = HookState(call.name, call.disposed, uncommitted=False)

    def dispose_hook(self, hook_id: str) -> None:
        """The workflow stopped listening on a hook: its token is free again once this commits."""
        hook = self.hooks.get(hook_id)
        if hook is None or hook.disposed:
            return
        hook.disposed = True
        if self._replaying:
            return
        self._push(NewEvent("hook_disposed", {"hookId": hook_id}, None, self.event_time()))

    def _diverge(self, detail: str, divergence: Divergence) -> None:
        if self.fatal is not None:
            return
        self.divergence = divergence
        self.fatal = NonDeterminismError(
            f"Replay of run {self.run.run_id} ({self.run.workflow_name}) diverged from its event log: "
            f"{detail}. Workflow code must make the same calls, with the same arguments, in the same "
            "order on every replay: keep non-deterministic work (I/O, the clock, randomness outside "
            "the run's seeded random, reading the environment) in steps, and do not change a "
            "workflow's calls while it has runs in progress."
        )

    # ---- live mode: called by the driver -------------------------------------------------------

    @property
    def has_uncommitted_hook(self) -> bool:
        """The outbox holds a hook creation whose token the World has not accepted yet."""
        return any(hook.uncommitted for hook in self.hooks.values())

    def take_outbox(self) -> list[NewEvent]:
        events, self._outbox = self._outbox, []
        return events

    def take_outbox_before_new_steps(self) -> list[NewEvent]:
        """While the run is handed back: the events before the first step start still in the outbox."""
        first = next((i for i, event in enumerate(self._outbox) if event.type == "step_started"), -1)
        if first == -1:
            return self.take_outbox()
        events, self._outbox = self._outbox[:first], self._outbox[first:]
        return events

    def inbox_items_in_outbox(self) -> set[str]:
        """Inbox items whose `hook_received` or `event_received` is still in the outbox."""
        items: set[str] = set()
        for event in self._outbox:
            if event.type == "hook_received" and isinstance(event.data.get("inboxId"), str):
                items.add(str(event.data["inboxId"]))
            if event.type == "event_received":
                items.add(str(event.data["eventId"]))
        return items

    def drop_unstarted_calls(self) -> int:
        """Before the run is handed back: drops the calls at the end of the outbox never acted on
        (from the first step start on, when no outcome follows), so the next worker makes them
        afresh. The machine is not used again. Returns how many events were dropped."""
        first = next((i for i, event in enumerate(self._outbox) if event.type == "step_started"), -1)
        if first == -1:
            return 0
        tail = self._outbox[first:]
        if any(event.type in OUTCOME_TYPES for event in tail):
            return 0
        dropped_hooks: set[str] = set()
        kept: list[NewEvent] = []
        for event in tail:
            if event.type == "hook_created":
                dropped_hooks.add(str(event.data["hookId"]))
            if event.type == "hook_disposed":
                if str(event.data["hookId"]) not in dropped_hooks:
                    kept.append(event)
                continue
            if event.type not in CALL_TYPES:
                kept.append(event)
        self._outbox = self._outbox[:first] + kept
        return len(tail) - len(kept)

    def restore_outbox(self, events: list[NewEvent]) -> None:
        """Puts events back after a failed commit, ahead of anything pushed since."""
        self._outbox = events + self._outbox

    @property
    def outbox_size(self) -> int:
        return len(self._outbox)

    def committed(self, seq: int) -> None:
        self.seq = seq
        for hook in self.hooks.values():
            hook.uncommitted = False

    def convert_hook_conflict(self, events: list[NewEvent], token: str, held_by: str | None) -> bool:
        """The World refused a batch because a hook token is taken: turns that hook's creation into
        a conflict in `events` (in place) and queues the error for delivery."""
        for i in range(len(events) - 1, -1, -1):
            event = events[i]
            if event.type != "hook_created" or event.data.get("token") != token:
                continue
            hook_id = str(event.data["hookId"])
            hook = self.hooks.get(hook_id)
            if hook is not None:
                hook.disposed = True
                hook.uncommitted = False
            at = event.created_at if event.created_at is not None else self.event_time()
            data: dict[str, object] = {"hookId": hook_id, "token": token}
            if held_by is not None:
                data["heldByRunId"] = held_by
            events[i] = NewEvent("hook_conflict", data, None, at)
            self.pending.append((Delivery("hook_conflict", hook_id, self._conflict_text(token, held_by)), at))
            return True
        return False

    def deliver_pending(self) -> None:
        """Delivers the outcomes decided at call or commit time, each at its event's time."""
        while self.pending and not self.finished:
            delivery, at = self.pending.pop(0)
            self.workflow.deliver(delivery, at)

    def store(self, place: str, text: str, what: str) -> bytes:
        """Codec text as a stored payload of this run, within the per-payload and per-run limits."""
        data = self.payloads.seal(place, text, what)
        if self.bytes + len(data) > self.options.max_run_bytes:
            raise RunTooLargeError(
                f"{what} ({len(data)} bytes) would take run {self.run.run_id} past its limit of "
                f"{self.options.max_run_bytes} bytes stored per run ({self.bytes} stored). Keep large "
                "data outside the run and pass references, or raise STEPWISE_MAX_RUN_BYTES."
            )
        self.bytes += len(data)
        return data

    def complete_step(self, step: StepTask, value: str, at: int, logs: CapturedLogs | None = None) -> None:
        """Records the step's result; `logs` (what the attempt printed) goes with it, as with
        `fail_step` and `retry_step`."""
        try:
            payload = self.store(Places.step_result(step.id), value, f"The result of step {step.name}")
        except Exception as error:
            self.fail_step(step, self.codec.error_text(error), True, at, logs)
            return
        time = self._advance(at)
        data: dict[str, object] = {"stepId": step.id, "attempt": step.attempt}
        self._with_step_logs(data, step, logs)
        self._push(NewEvent("step_completed", data, payload, time))
        self._resolve_step(step.id)
        self._deliver(Delivery("step_completed", step.id, value), time)

    def fail_step(
        self, step: StepTask, error: str, fatal: bool, at: int, logs: CapturedLogs | None = None
    ) -> None:
        time = self._advance(at)
        data: dict[str, object] = {"stepId": step.id, "attempt": step.attempt, "fatal": fatal}
        self._with_step_logs(data, step, logs)
        self._push(NewEvent("step_failed", data, self._store_error(step.id, error), time))
        self._resolve_step(step.id)
        self._deliver(Delivery("step_failed", step.id, error), time)

    def retry_step(
        self, step: StepTask, error: str, retry_at: int, at: int, logs: CapturedLogs | None = None
    ) -> None:
        data: dict[str, object] = {"stepId": step.id, "attempt": step.attempt, "retryAt": retry_at}
        self._with_step_logs(data, step, logs)
        self._push(NewEvent("step_retrying", data, self._store_error(step.id, error), self._advance(at)))
        step.status = "retrying"
        step.retry_at = retry_at

    def _output_buffer(self) -> LogBuffer:
        if self._output is None:
            self._output = LogBuffer(wall_ms)
        return self._output

    def take_workflow_logs(self) -> tuple[dict[str, object], CapturedLogs] | None:
        """What the workflow body printed since the last append, sealed for the next one (the
        driver puts it on that append's first event as `workflowLogs`, docs/payloads.md), with the
        lines to give back if the append fails; None when it printed nothing. Output that cannot
        be stored is left out (it was printed)."""
        buffer = self._output
        if buffer is None:
            return None
        self._output = None
        logs = buffer.take()
        if logs is None:
            return None
        log_id = new_id("log")
        try:
            text = self.codec.stringify(logs.stored_value())
            sealed = self.payloads.seal(Places.workflow_logs(log_id), text, "the workflow's console output")
        except Exception:  # noqa: BLE001 - left out, as a step's output that cannot be stored is
            return None
        stored: dict[str, object] = {
            "sealed": base64.b64encode(sealed).decode("ascii"),
            "lines": len(logs.lines),
            "id": log_id,
        }
        if logs.truncated is not None:
            stored["truncated"] = True
        return stored, logs

    def return_workflow_logs(self, logs: CapturedLogs) -> None:
        """Gives back lines `take_workflow_logs` took for an append that failed, before what was
        printed since: the next append takes them."""
        since = self._output.take() if self._output is not None else None
        buffer = LogBuffer(wall_ms)
        for line in [*logs.lines, *(since.lines if since is not None else [])]:
            buffer.add_line(line)
        self._output = buffer

    def _with_step_logs(self, data: dict[str, object], step: StepTask, logs: CapturedLogs | None) -> None:
        """Stores what an attempt printed on its outcome's metadata (`logs`: docs/payloads.md);
        output that cannot be stored is left out rather than failing the step."""
        if logs is None:
            return
        try:
            text = self.codec.stringify(logs.stored_value())
            sealed = self.payloads.seal(Places.step_logs(step.id, step.attempt), text, "a step's console output")
        except Exception:  # noqa: BLE001 - see the docstring
            return
        stored: dict[str, object] = {"sealed": base64.b64encode(sealed).decode("ascii"), "lines": len(logs.lines)}
        if logs.truncated is not None:
            stored["truncated"] = True
        data["logs"] = stored

    def _store_error(self, step_id: str, text: str) -> bytes:
        """Errors are always stored, even at the run's limit; one over the per-payload limit is
        cut to its name and message."""
        place = Places.step_error(step_id)
        try:
            data = self.payloads.seal(place, text, "a step's error")
        except Exception:
            original = self.codec.error_from(text)
            summary = RuntimeError(str(original)[:4096])
            data = self.payloads.seal(place, self.codec.error_text(summary), "a step's error")
        self.bytes += len(data)
        return data

    def next_attempt(self, step: StepTask, at: int) -> None:
        """Records the next attempt of a step that waited for a retry or was interrupted."""
        step.attempt += 1
        step.status = "queued"
        step.retry_at = None
        data: dict[str, object] = {"stepId": step.id, "stepName": step.name, "attempt": step.attempt}
        self._push(NewEvent("step_started", data, None, self._advance(at)))

    def complete_wait(self, wait_id: str, at: int) -> None:
        time = self._advance(at)
        self.waits.pop(wait_id, None)
        self._resolved.add(wait_id)
        self._push(NewEvent("wait_completed", {"waitId": wait_id}, None, time))
        self._deliver(Delivery("wait_completed", wait_id), time)

    def event_wait_for(self, event_type: str, sent_at: int) -> str | None:
        """The event wait that takes an event of `event_type` sent at `sent_at`: the first made of
        that type whose timeout had not passed when it was sent."""
        for wait_id, wait in self.event_waits.items():
            if wait.event_type == event_type and sent_at <= wait.timeout_at:
                return wait_id
        return None

    def receive_event(self, wait_id: str, event: IncomingEvent, at: int) -> None:
        """Delivers an event to `wait_id` and records it; the payload is read before anything is recorded."""
        text = self.payloads.open(Places.event_payload(event.item_id, event.event_type), event.payload)
        time = self._advance(at)
        data: dict[str, object] = {
            "waitId": wait_id,
            "eventId": event.item_id,
            "eventType": event.event_type,
            "sentAt": event.sent_at,
        }
        self._push(NewEvent("event_received", data, event.payload, time))
        self._resolve_event_wait(wait_id)
        self._deliver(Delivery("event_received", wait_id, text, event.sent_at), time)

    def time_out_event_wait(self, wait_id: str, at: int) -> None:
        time = self._advance(at)
        self._push(NewEvent("event_wait_timed_out", {"waitId": wait_id}, None, time))
        self._resolve_event_wait(wait_id)
        self._deliver(Delivery("event_timed_out", wait_id), time)

    def receive_hook(self, hook_id: str, payload: bytes, inbox_id: str, at: int) -> bool:
        """Delivers a hook payload from inbox item `inbox_id`; False if the hook no longer listens."""
        hook = self.hooks.get(hook_id)
        if hook is None or hook.disposed:
            return False
        text = self.payloads.open(Places.hook_payload(hook_id, inbox_id), payload)
        time = self._advance(at)
        self._push(NewEvent("hook_received", {"hookId": hook_id, "inboxId": inbox_id}, payload, time))
        self._deliver(Delivery("hook_received", hook_id, text), time)
        return True

    @property
    def outbox_bytes(self) -> int:
        """Payload bytes in uncommitted events that the World has not counted yet."""
        return sum(
            len(event.payload or b"")
            for event in self._outbox
            if event.type not in ("hook_received", "event_received")
        )

    def next_due_at(self) -> int | None:
        """The earliest time a sleep, an event wait's timeout or a retry is due, if any."""
        times = list(self.waits.values())
        times += [wait.timeout_at for wait in self.event_waits.values()]
        times += [s.retry_at for s in self.steps.values() if s.status == "retrying" and s.retry_at is not None]
        return min(times) if times else None


def pinned_version(events: Sequence[LoggedEvent]) -> str | None:
    """The code version the log pins the run to: the latest run_created/run_started/run_upgraded naming one."""
    pinned: str | None = None
    for event in events:
        if event.type in ("run_created", "run_started"):
            value = event.data.get("bundleHash")
            if isinstance(value, str):
                pinned = value
        elif event.type == "run_upgraded":
            value = event.data.get("toHash")
            if isinstance(value, str):
                pinned = value
    return pinned



def _quote(token: str) -> str:
    from urllib.parse import quote

    return quote(token, safe="")


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
