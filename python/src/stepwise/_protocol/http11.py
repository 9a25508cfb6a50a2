"""A lean HTTP/1.1 client for the protocol's operations: kept-alive asyncio connections.

Why not httpx for these: a worker makes one call per step, and httpx's `AsyncClient` (with
httpcore and anyio underneath) spent 1.0 to 1.4 ms of CPU per `events/append` on loopback, more than
the server's whole answer, and sends a request's head and body in two writes (two wake-ups of the
server); this pool spends about 0.2 ms, as a bare `http.client` connection does
(`bench/python-protocol.py`). The TypeScript remote World made the same choice (node:http over
fetch, docs/architecture.md). This module does only what the operations need: `POST` with a JSON
body, answers framed by Content-Length (or chunked, or by the end of the connection), kept-alive
connections reused last-in first-out (at most `MAX_IDLE` kept), dropped when idle for 30 s (well
under the server's 65 s) or when the server said `connection: close` or closed them. A call that
fails or is cancelled closes its connection. A call's timeout is kept as a deadline, checked by one
timer per pool set for the earliest deadline (a call past it has its connection aborted), not as an
`asyncio.timeout` per call, which cost a timer, a task lookup and a cancellation on every step: a
new call moves that timer only when its deadline is more than `DEADLINE_SLACK_S` before it.
Everything else (the notification stream, `GET`s) goes through httpx.

Failures raise `ConnectFailed` (nothing was sent) or `ConnectionLost` (the request may have
reached the server); the transport turns them into `ServerUnreachableError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

#: A pooled connection idle for longer than this is closed rather than reused (s).
IDLE_EXPIRY_S = 30.0
#: At most this many idle connections are kept; more are closed when their call ends.
MAX_IDLE = 32
#: Longest answer head accepted (bytes).
MAX_HEAD_BYTES = 64 * 1024
#: A call fails at most this long (s) after its timeout: the pool's one deadline timer is moved
#: for a new call only when the call's deadline is more than this before the timer.
DEADLINE_SLACK_S = 0.25


class ConnectFailed(OSError):
    """The connection could not be opened: the request was not sent."""


class ConnectionLost(OSError):
    """The connection failed after the request was (maybe) sent, or the answer was malformed."""


@dataclass(slots=True, eq=False)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0
    #: Set when its call ran past its deadline and the connection was aborted for it.
    timed_out: bool = False

    def usable(self, now: float) -> bool:
        return (
            not self.reader.at_eof()
            and not self.writer.is_closing()
            and now - self.idle_since < IDLE_EXPIRY_S
        )

    def close(self) -> None:
        self.writer.close()


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer: its status and body."""

    status: int
    body: bytes


class ConnectionPool:
    """Kept-alive connections to one origin (`http(s)://host:port`), for `post`."""

    def __init__(self, origin: str, *, connect_timeout: float = 10.0) -> None:
        parts = urlsplit(origin)
        self._tls = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if self._tls else 80)
        self._host_header = parts.netloc.encode("ascii")
        self._connect_timeout = connect_timeout
        self._ssl = ssl.create_default_context() if self._tls else None
        self._idle: list[_Connection] = []
        self._closed = False
        #: Connections carrying a call, with the call's deadline (the loop's clock).
        self._deadlines: dict[_Connection, float] = {}
        #: The timer that checks them, and when it fires.
        self._deadline_check: asyncio.TimerHandle | None = None
        self._check_at = 0.0

    async def _connect(self) -> _Connection:
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await asyncio.open_connection(
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._tls else None,
                    limit=MAX_HEAD_BYTES,
                )
        except (OSError, TimeoutError) as error:
            raise ConnectFailed(
                f"cannot connect to {self._host}:{self._port}: {error or type(error).__name__}"
            ) from error
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Connection(reader, writer)

    def _watch(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        """Makes sure the deadline timer fires by `deadline` (+ `DEADLINE_SLACK_S`)."""
        if self._deadline_check is not None:
            if self._check_at <= deadline + DEADLINE_SLACK_S:
                return
            self._deadline_check.cancel()
        self._check_at = deadline
        self._deadline_check = loop.call_at(deadline, self._check_deadlines, loop)

    def _check_deadlines(self, loop: asyncio.AbstractEventLoop) -> None:
        """Aborts the connections of calls past their deadline; set again for the next one."""
        self._deadline_check = None
        now = loop.time()
        for connection, deadline in list(self._deadlines.items()):
            if now >= deadline:
                connection.timed_out = True
                connection.writer.transport.abort()
                del self._deadlines[connection]
        if self._deadlines:
            self._watch(loop, min(self._deadlines.values()))

    async def _acquire(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if connection.usable(now):
                return connection
            connection.close()
        return await self._connect()

    async def post(self, path: str, headers: bytes, body: bytes, timeout: float) -> Answer:
        """POSTs `body` to `path` with the extra header lines `headers` (each ending in CRLF)."""
        if self._closed:
            raise ConnectFailed("the client is closed")
        connection = await self._acquire()
        head = (
            b"POST " + path.encode("ascii") + b" HTTP/1.1\r\nhost: " + self._host_header + b"\r\n"
            + headers + b"content-length: " + str(len(body)).encode("ascii") + b"\r\n\r\n"
        )  # fmt: skip
        reusable = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._deadlines[connection] = deadline
        self._watch(loop, deadline)
        try:
            connection.writer.write(head + body)
            await connection.writer.drain()
            status, body_out, reusable = await _read_answer(connection.reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
            if connection.timed_out:
                raise ConnectionLost(f"no answer within {timeout:.0f} s") from error
            raise ConnectionLost(str(error) or type(error).__name__) from error
        finally:
            self._deadlines.pop(connection, None)
            if reusable and not self._closed and len(self._idle) < MAX_IDLE:
                connection.idle_since = time.monotonic()
                self._idle.append(connection)
            else:
                connection.close()
        return Answer(status, body_out)

    async def aclose(self) -> None:
        """Closes the idle connections; those in use close when their call ends."""
        self._closed = True
        if self._deadline_check is not None:
            self._deadline_check.cancel()
            self._deadline_check = None
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        for connection in idle:
            with contextlib.suppress(OSError):
                await connection.writer.wait_closed()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Reads one answer: status, body, and whether the connection may carry another request."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.1 answer: {lines[0][:80]!r}")
    status = int(status_line[1])
    length: int | None = None
    chunked = False
    keep_alive = status_line[0] == "HTTP/1.1"
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding":
            chunked = "chunked" in value.lower()
        elif name == "connection":
            tokens = value.lower()
            if "close" in tokens:
                keep_alive = False
            elif "keep-alive" in tokens:
                keep_alive = True
    if chunked:
        return status, await _read_chunked(reader), keep_alive
    if length is not None:
        return status, await reader.readexactly(length), keep_alive
    if status in (204, 304) or 100 <= status < 200:
        return status, b"", keep_alive
    return status, await reader.read(), False  # framed by the end of the connection


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailers
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ValueError("malformed chunked answer")
