"""The workflow code's side of a run: its deterministic loop, the futures of its calls, its
hooks, its clock and its random numbers (src/workflow/prelude.ts, in Python).

The machine starts the workflow once and hands it outcomes (`deliver`); the workflow's calls
(`step`, `sleep_until`, `wait_for_event`, `hook`) go to the machine as commands and return futures
on the run's loop. Workflow code reaches its realm through `current_realm()`, a context variable
set in the context the workflow's task (and every task it creates) runs in.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import random
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from .calls import Delivery, EventCommand, HookCommand, Host, SleepCommand, StepCommand
from .guard import Activation, activation
from .loop import new_workflow_loop
from .output import current_output, install_capture
from .ports import ValueCodec

_current: contextvars.ContextVar[Realm | None] = contextvars.ContextVar("stepwise_realm", default=None)


def current_realm() -> Realm | None:
    """The run whose workflow code is running, or None outside workflow code."""
    return _current.get()


@dataclass(slots=True, frozen=True)
class ReceivedEvent:
    """An event delivered to a `wait_for_event`: its payload and when it was sent (epoch ms)."""

    payload: object
    sent_at: int


class HookChannel:
    """A hook the workflow listens on: payloads arrive in order; `next()` waits for the next one."""

    def __init__(self, realm: Realm, hook_id: str, token: str, url: str | None) -> None:
        self.realm = realm
        self.id = hook_id
        self.token = token
        self.url = url
        self._received: deque[object] = deque()
        self._waiter: asyncio.Future[object] | None = None
        self._error: BaseException | None = None
        self.disposed = False

    def receive(self, value: object) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(value)
            self._waiter = None
        else:
            self._received.append(value)

    def fail(self, error: BaseException) -> None:
        self._error = error
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
            self._waiter = None

    async def next(self) -> object:
        """The next payload, waiting for it if none has arrived."""
        if self._received:
            return self._received.popleft()
        if self._error is not None:
            raise self._error
        waiter: asyncio.Future[object] = self.realm.loop.create_future()
        self._waiter = waiter
        return await waiter

    def dispose(self) -> None:
        """Stops listening: the token is free again once this is recorded."""
        if self.disposed:
            return
        self.disposed = True
        self.realm.host.dispose_hook(self.id)


class Realm:
    """See the module docstring."""

    def __init__(
        self,
        host: Host,
        codec: ValueCodec,
        *,
        seed: str,
        created_at: int,
        entry: Callable[[object], Coroutine[Any, Any, object]],
    ) -> None:
        self.host = host
        self.codec = codec
        self.now_ms = created_at
        #: The run's random numbers: seeded from its secret seed, the same on every replay.
        self.random = random.Random(int.from_bytes(hashlib.sha256(f"random:{seed}".encode()).digest(), "big"))
        self.loop = new_workflow_loop(lambda: self.now_ms / 1000)
        self._entry = entry
        self._futures: dict[str, tuple[asyncio.Future[Any], Callable[[Delivery], None]]] = {}
        self.hooks: dict[str, HookChannel] = {}
        self._activation = Activation(lambda: self.now_ms, self.random)
        self.task: asyncio.Task[object] | None = None
        #: The bodies of steps this run declared itself (Cloudflare's `step.do`), by step name.
        self.step_bodies: dict[str, object] = {}
        #: What the run is (its id, workflow, creation time), for the workflow's own use.
        self.run = getattr(host, "run", None)

    # ---- the machine's side (WorkflowSide) ------------------------------------------------------

    def start(self, args_text: str) -> None:
        """Starts the workflow with the run's arguments (codec text) and runs it until it waits."""
        context = contextvars.copy_context()
        context.run(_current.set, self)
        # What the workflow body prints goes to its run (kept for the next append, or dropped when
        # a replay passes over output stored already), through the same tee as a step's.
        install_capture()
        context.run(current_output.set, self.host.workflow_output)
        with activation(self._activation):
            try:
                coro = context.run(self._entry, self.codec.parse(args_text))
            except Exception as error:
                self.host.settle(False, self.codec.error_text(error))
                return
            self.task = self.loop.create_task(coro, context=context)
            self.task.add_done_callback(self._settle)
            self.loop.run_until_idle()

    def deliver(self, delivery: Delivery, at: int) -> None:
        """Hands an outcome to the workflow at time `at` and runs it until it waits again."""
        self.now_ms = at
        install_capture()  # again, if something replaced sys.stdout since (pytest's capture does)
        if delivery.kind in ("hook_received", "hook_conflict"):
            hook = self.hooks.get(delivery.id)
            if hook is None:
                return
            with activation(self._activation):
                if delivery.kind == "hook_received":
                    hook.receive(self.codec.parse(delivery.text))
                else:
                    hook.fail(self.codec.error_from(delivery.text))
                self.loop.run_until_idle()
            return
        waiting = self._futures.pop(delivery.id, None)
        if waiting is None:
            return
        future, resolve = waiting
        with activation(self._activation):
            if not future.done():
                resolve(delivery)
            self.loop.run_until_idle()

    def _settle(self, task: asyncio.Task[object]) -> None:
        if task.cancelled():
            self.host.settle(False, self.codec.error_text(asyncio.CancelledError("the workflow was cancelled")))
            return
        error = task.exception()
        if error is not None:
            self.host.settle(False, self.codec.error_text(error))
            return
        try:
            text = self.codec.stringify(task.result())
        except Exception as failure:
            self.host.settle(
                False,
                self.codec.error_text(
                    type(failure)(f"The workflow's return value cannot be stored: {failure}")
                    if isinstance(failure, TypeError)
                    else failure
                ),
            )
            return
        self.host.settle(True, text)

    # ---- the workflow's calls -------------------------------------------------------------------

    def step(self, name: str, args_text: str) -> asyncio.Future[object]:
        """Calls step `name` with arguments (codec text of a list); the future gets its result."""
        receipt = self.host.command(StepCommand(name, args_text))
        future: asyncio.Future[object] = self.loop.create_future()

        def resolve(delivery: Delivery) -> None:
            if delivery.kind == "step_completed":
                future.set_result(self.codec.parse(delivery.text))
            else:
                future.set_exception(self.codec.error_from(delivery.text))

        self._futures[receipt.id] = (future, resolve)
        return future

    def sleep_until(self, resume_at: int) -> asyncio.Future[None]:
        """Sleeps durably until `resume_at` (epoch ms)."""
        receipt = self.host.command(SleepCommand(resume_at))
        future: asyncio.Future[None] = self.loop.create_future()
        self._futures[receipt.id] = (future, lambda _delivery: future.set_result(None))
        return future

    def wait_for_event(
        self, event_type: str, timeout_at: int, on_timeout: Callable[[], BaseException]
    ) -> asyncio.Future[ReceivedEvent]:
        """Waits for the next event of `event_type` sent to the run, until `timeout_at` (epoch ms)."""
        receipt = self.host.command(EventCommand(event_type, timeout_at))
        future: asyncio.Future[ReceivedEvent] = self.loop.create_future()

        def resolve(delivery: Delivery) -> None:
            if delivery.kind == "event_received":
                future.set_result(ReceivedEvent(self.codec.parse(delivery.text), delivery.sent_at))
            else:
                future.set_exception(on_timeout())

        self._futures[receipt.id] = (future, resolve)
        return future

    def hook(self, token: str | None, webhook: bool = False) -> HookChannel:
        """Listens on a hook (on `token`, or one derived from the run)."""
        receipt = self.host.command(HookCommand(token, webhook))
        channel = HookChannel(self, receipt.id, receipt.token or "", receipt.url)
        self.hooks[receipt.id] = channel
        return channel
