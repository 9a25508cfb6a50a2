"""The lean HTTP/1.1 pool under the operations, against small real socket servers.

The Stepwise server always answers with Content-Length and keeps connections alive; a proxy in
front of it may chunk answers, close connections or frame an answer by closing. Each case here is a
real asyncio server on 127.0.0.1 that answers one way, and the pool must read it right and reuse
a connection only when it may.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from stepwise._protocol.http11 import DEADLINE_SLACK_S, ConnectFailed, ConnectionLost, ConnectionPool

Reply = Callable[[int], bytes]


class Origin:
    """A tiny HTTP server: answers each request with `reply(n)` (n counts requests); counts connections."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                self.requests.append(head + await reader.readexactly(length))
                answer = self.reply(len(self.requests))
                writer.write(answer)
                await writer.drain()
                if b"connection: close" in answer.lower() or (
                    b"content-length" not in answer.lower() and b"chunked" not in answer
                ):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"


@pytest.fixture
async def origin() -> AsyncIterator[Callable[[Reply], asyncio.Future[Origin]]]:
    started: list[Origin] = []

    async def start(reply: Reply) -> Origin:
        server = Origin(reply)
        server.server = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        started.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in started:
        assert server.server is not None
        server.server.close()


def _ok(body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + extra
        + b"content-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


async def test_kept_alive_connections_are_reused(origin: Callable[[Reply], asyncio.Future[Origin]]) -> None:
    server = await origin(lambda n: _ok(b'{"n":%d}' % n))
    pool = ConnectionPool(server.url)
    for i in range(1, 4):
        answer = await pool.post("/p", b"authorization: Bearer s\r\n", b"{}", 5)
        assert (answer.status, answer.body) == (200, b'{"n":%d}' % i)
    assert server.connections == 1
    assert server.requests[0].startswith(b"POST /p HTTP/1.1\r\nhost: 127.0.0.1:")
    assert b"authorization: Bearer s\r\n" in server.requests[0]
    # Two calls at once need two connections.
    await asyncio.gather(pool.post("/p", b"", b"{}", 5), pool.post("/p", b"", b"{}", 5))
    assert server.connections == 2
    await pool.aclose()


async def test_chunked_and_close_framed_answers(origin: Callable[[Reply], asyncio.Future[Origin]]) -> None:
    replies = {
        1: b'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\n{"a\r\n4;x=y\r\n":1}\r\n0\r\n\r\n',
        2: _ok(b"{}", b"connection: close\r\n"),
    }
    server = await origin(lambda n: replies.get(n, b'HTTP/1.1 200 OK\r\n\r\n{"eof":true}'))
    pool = ConnectionPool(server.url)
    assert (await pool.post("/p", b"", b"{}", 5)).body == b'{"a":1}'
    assert (await pool.post("/p", b"", b"{}", 5)).body == b"{}"
    # The server closed that connection: the next call opens another, framed by the end of it.
    assert (await pool.post("/p", b"", b"{}", 5)).body == b'{"eof":true}'
    assert server.connections == 2
    await pool.aclose()


async def test_a_connection_the_server_closed_while_idle_is_not_reused(
    origin: Callable[[Reply], asyncio.Future[Origin]],
) -> None:
    server = await origin(lambda n: _ok(b"{}", b"connection: close\r\n" if n == 1 else b""))
    pool = ConnectionPool(server.url)
    await pool.post("/p", b"", b"{}", 5)
    await asyncio.sleep(0.05)
    await pool.post("/p", b"", b"{}", 5)
    assert server.connections == 2


async def test_failures_say_whether_the_request_was_sent(
    origin: Callable[[Reply], asyncio.Future[Origin]],
) -> None:
    cut = await origin(lambda n: b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 10\r\n\r\n{}")
    with pytest.raises(ConnectionLost):
        await ConnectionPool(cut.url).post("/p", b"", b"{}", 5)
    stalled = await origin(lambda n: b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{}")  # never ends
    with pytest.raises(ConnectionLost, match="no answer within"):
        await ConnectionPool(stalled.url).post("/p", b"", b"{}", 0.3)
    silent = await origin(lambda n: b"")
    with pytest.raises(ConnectionLost):
        await ConnectionPool(silent.url).post("/p", b"", b"{}", 5)
    assert silent.server is not None
    port = silent.server.sockets[0].getsockname()[1]
    silent.server.close()
    await silent.server.wait_closed()
    with pytest.raises(ConnectFailed):
        await ConnectionPool(f"http://127.0.0.1:{port}").post("/p", b"", b"{}", 5)


async def test_a_call_past_its_deadline_fails_alone_and_soon(
    origin: Callable[[Reply], asyncio.Future[Origin]],
) -> None:
    # Requests 1 and 2 never get their whole answer; the others do. A call with a far deadline (a
    # long poll) is in flight when one with a near deadline starts: the near one still fails at
    # its own deadline (at most DEADLINE_SLACK_S later), and the far one is left alone.
    stall = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{}"
    server = await origin(lambda n: stall if n <= 2 else _ok(b'{"n":%d}' % n))
    pool = ConnectionPool(server.url)
    loop = asyncio.get_running_loop()
    long_poll = asyncio.ensure_future(pool.post("/p", b"", b"{}", 30))
    await asyncio.sleep(0.05)
    started = loop.time()
    stalled = asyncio.ensure_future(pool.post("/p", b"", b"{}", 0.4))
    await asyncio.sleep(0.05)
    answered = await pool.post("/p", b"", b"{}", 5)
    assert answered.body == b'{"n":3}'
    with pytest.raises(ConnectionLost, match="no answer within"):
        await stalled
    elapsed = loop.time() - started
    assert 0.4 <= elapsed <= 0.4 + DEADLINE_SLACK_S + 0.2
    assert not long_poll.done()
    # The answered call's connection is reused.
    assert (await pool.post("/p", b"", b"{}", 5)).body == b'{"n":4}'
    assert server.connections == 3
    long_poll.cancel()
    with pytest.raises(asyncio.CancelledError):
        await long_poll
    await pool.aclose()
