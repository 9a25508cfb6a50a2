"""A deterministic asyncio event loop for workflow code.

Workflow code is ordinary `async def` code: it awaits steps, sleeps and hooks, and may use
`asyncio.gather`, `asyncio.create_task` and futures. It runs on a `WorkflowLoop`, which has no
clock of its own, no I/O and no threads: it only runs ready callbacks, in the order they were
scheduled, until none is left. The engine resolves a call's future when its outcome is delivered
and runs the loop again, so the same log gives the same order of calls on every replay.

What would make a replay differ is refused with a message naming the durable alternative: timers
(`asyncio.sleep(n)`, `asyncio.wait_for`, `asyncio.timeout`: use `workflow.sleep` or a step's
timeout), I/O and subprocesses (do them in a step), executors and threads (do the work in a
step). The loop runs inside the worker's own event loop, synchronously: it is made the running
loop while it runs and the worker's loop is put back after.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, TypeVar

from .errors import WorkflowSandboxError

_T = TypeVar("_T")


def _refuse(what: str, instead: str) -> NoReturn:
    raise WorkflowSandboxError(f"{what} cannot be used in workflow code: {instead}")


class WorkflowLoop(asyncio.AbstractEventLoop):
    """Runs one run's workflow code deterministically (see the module docstring)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._ready: deque[asyncio.Handle] = deque()
        self._clock = clock
        self._running = False
        self._closed = False
        #: Errors raised by callbacks that nothing awaited (a task's unretrieved exception).
        self.unhandled: list[dict[str, object]] = []

    # ---- what the engine calls ----------------------------------------------------------------

    def run_until_idle(self) -> None:
        """Runs ready callbacks (and those they schedule) until none is left."""
        if self._closed:
            raise RuntimeError("the workflow loop is closed")
        previous = asyncio._get_running_loop()
        asyncio._set_running_loop(self)
        self._running = True
        try:
            while self._ready:
                handle = self._ready.popleft()
                if not handle._cancelled:
                    handle._run()
        finally:
            self._running = False
            asyncio._set_running_loop(previous)

    # ---- the scheduling asyncio needs ---------------------------------------------------------

    def call_soon(  # type: ignore[override]
        self,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        handle = asyncio.Handle(callback, args, self, context)
        self._ready.append(handle)
        return handle

    def call_soon_threadsafe(  # type: ignore[override]
        self,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        _refuse("Another thread", "do work that needs threads in a step")

    def call_later(  # type: ignore[override]
        self,
        delay: float,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        _refuse(
            "A timer (asyncio.sleep with a delay, asyncio.wait_for, asyncio.timeout)",
            "wait with `await workflow.sleep(...)` (durable, survives restarts), or give the step a timeout",
        )

    def call_at(  # type: ignore[override]
        self,
        when: float,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        return self.call_later(0, callback, *args, context=context)

    def time(self) -> float:
        return self._clock()

    def create_future(self) -> asyncio.Future[Any]:
        return asyncio.Future(loop=self)

    def create_task(  # type: ignore[override]
        self,
        coro: Coroutine[Any, Any, _T],
        *,
        name: str | None = None,
        context: contextvars.Context | None = None,
    ) -> asyncio.Task[_T]:
        return asyncio.Task(coro, loop=self, name=name, context=context)

    def is_running(self) -> bool:
        return self._running

    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._ready.clear()
        self._closed = True

    def get_debug(self) -> bool:
        return False

    def set_debug(self, enabled: bool) -> None:
        return None

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        self.unhandled.append(context)

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        self.unhandled.append(context)

    def get_exception_handler(self) -> None:
        return None

    def set_exception_handler(self, handler: object) -> None:
        _refuse("loop.set_exception_handler", "handle errors with try/except in the workflow")

    def get_task_factory(self) -> None:
        return None

    def set_task_factory(self, factory: object) -> None:
        _refuse("loop.set_task_factory", "workflow tasks are plain asyncio tasks")

    # ---- what workflow code must not do --------------------------------------------------------

    def run_forever(self) -> None:
        _refuse("loop.run_forever", "the engine runs the workflow")

    def run_until_complete(self, future: object) -> NoReturn:
        _refuse("loop.run_until_complete", "await the call instead")

    def stop(self) -> None:
        _refuse("loop.stop", "return from the workflow to end it")

    async def shutdown_asyncgens(self) -> None:
        return None

    async def shutdown_default_executor(self, timeout: float | None = None) -> None:
        return None

    def run_in_executor(self, executor: object, func: Callable[..., _T], *args: Any) -> NoReturn:  # type: ignore[override]
        _refuse("An executor (run_in_executor, asyncio.to_thread)", "do blocking work in a step")

    def set_default_executor(self, executor: object) -> None:
        _refuse("loop.set_default_executor", "do blocking work in a step")

#: The loop's I/O methods (sockets, pipes, subprocesses, DNS, signals, readers and writers).
_IO_METHODS = (
    "create_connection",
    "create_server",
    "create_datagram_endpoint",
    "create_unix_connection",
    "create_unix_server",
    "connect_accepted_socket",
    "sendfile",
    "start_tls",
    "getaddrinfo",
    "getnameinfo",
    "connect_read_pipe",
    "connect_write_pipe",
    "subprocess_shell",
    "subprocess_exec",
    "add_reader",
    "remove_reader",
    "add_writer",
    "remove_writer",
    "sock_recv",
    "sock_recv_into",
    "sock_recvfrom",
    "sock_recvfrom_into",
    "sock_sendall",
    "sock_sendto",
    "sock_connect",
    "sock_accept",
    "sock_sendfile",
    "add_signal_handler",
    "remove_signal_handler",
)


def _io_refusal(name: str) -> Callable[..., NoReturn]:
    def refuse(self: WorkflowLoop, *args: object, **kwargs: object) -> NoReturn:
        _refuse(f"loop.{name} (I/O)", "do I/O in a step, whose result is recorded once")

    refuse.__name__ = name
    return refuse


for _name in _IO_METHODS:
    setattr(WorkflowLoop, _name, _io_refusal(_name))


def new_workflow_loop(clock: Callable[[], float]) -> WorkflowLoop:
    """A loop for one run. (Its I/O methods are set above, which type checkers cannot see.)"""
    return WorkflowLoop(clock)  # type: ignore[abstract]
