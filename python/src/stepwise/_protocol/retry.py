"""Backoff for callers that retry reads and leases while the server or its World is away.

The client never retries by itself: a write whose connection failed may have taken effect, and only
the caller knows how to read before writing again. Reads and leases are safe to repeat, and a
worker waiting out a server restart repeats them: `with_backoff` calls again after each retryable
failure (`ProtocolError.retryable`: a 503, no connection) with exponential backoff and jitter, and
lets every other error through at once.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .errors import ProtocolError

T = TypeVar("T")


def backoff_delay(attempt: int, *, first: float = 0.1, cap: float = 5.0) -> float:
    """The delay (s) before retry number `attempt` (1-based): doubling from `first` to `cap`, ±20 %."""
    delay: float = min(cap, first * 2.0 ** min(attempt - 1, 30))
    return delay * random.uniform(0.8, 1.2)


async def with_backoff(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int | None = None,
    first: float = 0.1,
    cap: float = 5.0,
    on_retry: Callable[[ProtocolError, int, float], None] | None = None,
) -> T:
    """`await call()`, again after each retryable failure, at most `attempts` times (None: forever).

    Only for reads and leases (`runs_get`, `events_list`, `tasks_lease`, …): never wrap a write.
    `on_retry(error, attempt, delay)` hears each failure before the wait (a worker says once that
    the server is unreachable). The last error is raised when the attempts run out.
    """
    attempt = 0
    while True:
        try:
            return await call()
        except ProtocolError as error:
            attempt += 1
            if not error.retryable or (attempts is not None and attempt >= attempts):
                raise
            delay = backoff_delay(attempt, first=first, cap=cap)
            if on_retry is not None:
                on_retry(error, attempt, delay)
            await asyncio.sleep(delay)
