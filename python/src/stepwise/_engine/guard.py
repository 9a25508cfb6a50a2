"""What workflow code may not reach while it runs, and what it gets from the run instead.

While a run's workflow code runs (`activation`), in the thread that runs it:
- `time.time()` / `time.time_ns()` give the run's event clock (the time of the outcome it last
  received), and the `random` module's functions draw from the run's seeded generator, so a
  replay sees the same values;
- `time.sleep`, starting a thread, opening a socket connection and `open()` raise
  `WorkflowSandboxError` naming the durable alternative.
Other threads are unaffected: each replacement checks which thread calls it and passes other
threads' calls to the original. The replacements are put in place for the activation and taken
out after it. What cannot be replaced at run time (`datetime.now()`, a `from time import time`
taken at import) is caught by the static check of `check.py` when the workflow is declared.
"""

from __future__ import annotations

import builtins
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .errors import WorkflowSandboxError

_RANDOM_FUNCTIONS = (
    "random",
    "uniform",
    "randint",
    "randrange",
    "choice",
    "choices",
    "shuffle",
    "sample",
    "getrandbits",
    "gauss",
    "normalvariate",
    "triangular",
    "betavariate",
    "expovariate",
    "randbytes",
)

_local = threading.local()


class Activation:
    """The run whose workflow code is running in this thread: its clock and its random numbers."""

    __slots__ = ("now_ms", "random")

    def __init__(self, now_ms: Callable[[], int], rng: random.Random) -> None:
        self.now_ms = now_ms
        self.random = rng


def current_activation() -> Activation | None:
    """The activation running in this thread, if any."""
    active: Activation | None = getattr(_local, "activation", None)
    return active


def _refusal(what: str, instead: str) -> WorkflowSandboxError:
    return WorkflowSandboxError(f"{what} cannot be used in workflow code: {instead}")


def _time() -> float:
    active = current_activation()
    return _ORIGINAL_TIME() if active is None else active.now_ms() / 1000


def _time_ns() -> int:
    active = current_activation()
    return _ORIGINAL_TIME_NS() if active is None else active.now_ms() * 1_000_000


def _sleep(seconds: float) -> None:
    if current_activation() is None:
        _ORIGINAL_SLEEP(seconds)
        return
    raise _refusal("time.sleep", "wait with `await workflow.sleep(...)`, which is durable and costs nothing")


def _thread_start(self: threading.Thread) -> None:
    if current_activation() is not None:
        raise _refusal("Starting a thread", "do work that needs threads in a step")
    _ORIGINAL_THREAD_START(self)


def _connect(self: socket.socket, address: Any) -> None:
    if current_activation() is not None:
        raise _refusal("A network connection", "do I/O in a step, whose result is recorded once")
    _ORIGINAL_CONNECT(self, address)


def _open(*args: Any, **kwargs: Any) -> Any:
    if current_activation() is not None:
        raise _refusal("open()", "read and write files in a step, whose result is recorded once")
    return _ORIGINAL_OPEN(*args, **kwargs)


def _random_function(name: str) -> Callable[..., Any]:
    original: Callable[..., Any] = getattr(random, name)

    def seeded(*args: Any, **kwargs: Any) -> Any:
        active = current_activation()
        if active is None:
            return original(*args, **kwargs)
        return getattr(active.random, name)(*args, **kwargs)

    seeded.__name__ = name
    seeded.__doc__ = original.__doc__
    return seeded


_ORIGINAL_TIME = time.time
_ORIGINAL_TIME_NS = time.time_ns
_ORIGINAL_SLEEP = time.sleep
_ORIGINAL_THREAD_START = threading.Thread.start
_ORIGINAL_CONNECT = socket.socket.connect
_ORIGINAL_OPEN = builtins.open
_ORIGINAL_RANDOM = {name: getattr(random, name) for name in _RANDOM_FUNCTIONS if hasattr(random, name)}
_SEEDED_RANDOM = {name: _random_function(name) for name in _ORIGINAL_RANDOM}

#: How many activations are running (in any thread): the replacements stay while any is.
_depth = 0
_depth_lock = threading.Lock()


def _install() -> None:
    time.time = _time
    time.time_ns = _time_ns
    time.sleep = _sleep  # type: ignore[assignment]
    threading.Thread.start = _thread_start  # type: ignore[method-assign]
    socket.socket.connect = _connect  # type: ignore[method-assign,assignment]
    builtins.open = _open
    for name, function in _SEEDED_RANDOM.items():
        setattr(random, name, function)


def _uninstall() -> None:
    time.time = _ORIGINAL_TIME
    time.time_ns = _ORIGINAL_TIME_NS
    time.sleep = _ORIGINAL_SLEEP
    threading.Thread.start = _ORIGINAL_THREAD_START  # type: ignore[method-assign]
    socket.socket.connect = _ORIGINAL_CONNECT  # type: ignore[method-assign]
    builtins.open = _ORIGINAL_OPEN
    for name, function in _ORIGINAL_RANDOM.items():
        setattr(random, name, function)


@contextmanager
def activation(active: Activation) -> Iterator[None]:
    """Runs the block as `active`'s workflow code (see the module docstring)."""
    global _depth
    previous = current_activation()
    _local.activation = active
    with _depth_lock:
        _depth += 1
        if _depth == 1:
            _install()
    try:
        yield
    finally:
        with _depth_lock:
            _depth -= 1
            if _depth == 0:
                _uninstall()
        _local.activation = previous
