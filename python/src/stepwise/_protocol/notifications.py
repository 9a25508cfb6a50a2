"""The server's change hints (`GET …/notifications`, server-sent events) as an async iterator.

`NotificationStream` yields `Notification(type="ready")` each time the stream becomes live (the
server listens on the caller's behalf from then on: subscribe, wait for `ready`, then write, and
the hint of the write cannot be missed), then one `Notification` per hint. When the stream ends or
breaks it reconnects with backoff (0.1 s doubling to 5 s) and, once live again, yields `ready`
and then `Notification(type="any")`: hints may have been missed in the gap, re-read everything.
A wrong secret is not retried: it raises `UnauthorizedError`. Iteration ends when the stream or
its `ProtocolClient` is closed. Iterate in one task: to stop a task that is waiting on the stream,
cancel the task (or close the client); `aclose()` is for the task that iterates.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

import httpx

from .errors import UnauthorizedError, error_from_answer
from .records import Notification
from .wire import WireFormatError

if TYPE_CHECKING:
    from .transport import Transport

#: The server sends a comment every 15 s: a stream silent for this long is dead (s).
SILENCE_TIMEOUT_S = 45.0
#: Backoff between reconnects: first delay and cap (s).
FIRST_DELAY_S = 0.1
MAX_DELAY_S = 5.0

_READY = Notification(type="ready")
_ANY = Notification(type="any")


def _hint(data: str) -> Notification:
    try:
        value: object = json.loads(data)
        if type(value) is not dict:
            return _ANY
        return Notification.from_wire(value)
    except (ValueError, WireFormatError):
        return _ANY  # a hint this client cannot read: assume anything changed


class NotificationStream:
    """An async iterator of the server's change hints, reconnecting with backoff (see the module)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._url = transport.server.base + "/notifications"
        self._events = self._run()
        self.live = False
        """Whether the stream is connected and live right now."""
        self.connections = 0
        """How many times the stream became live (1 + reconnects)."""

    def __aiter__(self) -> NotificationStream:
        return self

    async def __anext__(self) -> Notification:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        """Ends the stream (its connection closes; iteration stops)."""
        self.live = False
        await self._events.aclose()

    async def __aenter__(self) -> NotificationStream:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def _run(self) -> AsyncGenerator[Notification, None]:
        failures = 0
        timeout = httpx.Timeout(10.0, read=SILENCE_TIMEOUT_S)
        client = self._transport.client
        while not client.is_closed:
            try:
                async with client.stream(
                    "GET", self._url, headers={"accept": "text/event-stream"}, timeout=timeout
                ) as response:
                    if response.status_code != 200:
                        content = await response.aread()
                        try:
                            body: object = json.loads(content)
                        except ValueError:
                            body = None
                        error = error_from_answer(
                            response.status_code, body, self._transport.server.url, "notifications"
                        )
                        if isinstance(error, UnauthorizedError):
                            raise error
                    else:
                        kind = "message"
                        data: list[str] = []
                        async for line in response.aiter_lines():
                            if line:
                                if line[0] == ":":
                                    continue
                                field, _, value = line.partition(":")
                                if value[:1] == " ":
                                    value = value[1:]
                                if field == "event":
                                    kind = value
                                elif field == "data":
                                    data.append(value)
                                continue
                            if not data:
                                kind = "message"
                                continue
                            if kind == "ready":
                                self.live = True
                                self.connections += 1
                                yield _READY
                                if self.connections > 1 or failures > 0:
                                    yield _ANY
                                failures = 0
                            else:
                                yield _hint("\n".join(data))
                            kind, data = "message", []
            except httpx.TransportError:
                pass  # the server went away, or the stream fell silent: reconnect below
            except RuntimeError:
                if not client.is_closed:
                    raise
            self.live = False
            if client.is_closed:
                return
            failures += 1
            await asyncio.sleep(min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** min(failures - 1, 6)))
