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
fails or is cancelled closes its connection. Everything else (the notification stream, `GET`s)
goes through httpx.

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


class ConnectFailed(OSError):
    """The connection could not be opened: the request was not sent."""


class ConnectionLost(OSError):
    """The connection failed after the request was (maybe) sent, or the answer was malformed."""


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

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
        try:
            async with asyncio.timeout(timeout):
                connection.writer.write(head + body)
                await connection.writer.drain()
                status, body_out, reusable = await _read_answer(connection.reader)
        except TimeoutError as error:
            raise ConnectionLost(f"no answer within {timeout:.0f} s") from error
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
            raise ConnectionLost(str(error) or type(error).__name__) from error
        finally:
            if reusable and not self._closed and len(self._idle) < MAX_IDLE:
                connection.idle_since = time.monotonic()
                self._idle.append(connection)
            else:
                connection.close()
        return Answer(status, body_out)

    async def aclose(self) -> None:
        """Closes the idle connections; those in use close when their call ends."""
        self._closed = True
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
