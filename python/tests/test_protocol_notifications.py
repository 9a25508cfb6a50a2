"""The notification stream: `ready` first, a hint after a write, and a gap after a restart as `any`."""

from __future__ import annotations

import asyncio

from conftest import ServerFactory
from helpers import create_run
from server import StepwiseServer

from stepwise._protocol import Notification, NotificationStream, ProtocolClient


async def _next(stream: NotificationStream, timeout: float = 30) -> Notification:
    return await asyncio.wait_for(stream.__anext__(), timeout)


async def test_a_write_after_ready_is_hinted(protocol_client: ProtocolClient) -> None:
    stream = protocol_client.notifications()
    try:
        assert await _next(stream) == Notification(type="ready")
        assert stream.live is True
        run = (await create_run(protocol_client)).run
        seen: list[Notification] = []
        while not any(n.type == "run" and n.run_id == run.run_id for n in seen):
            seen.append(await _next(stream))
        assert all(n.type in ("queue", "run", "inbox", "stream", "any") for n in seen)
    finally:
        await stream.aclose()
    assert stream.live is False


async def test_the_stream_reconnects_after_a_restart_and_reports_the_gap(
    server_factory: ServerFactory,
) -> None:
    server = server_factory()
    async with ProtocolClient(server.url, server.secret) as client, client.notifications() as stream:
        assert await _next(stream) == Notification(type="ready")
        server.restart()  # same port, same data: the stream ends and comes back
        after = [await _next(stream), await _next(stream)]
        assert after == [Notification(type="ready"), Notification(type="any")]
        assert stream.connections == 2
        run = (await create_run(client)).run
        hint = await _next(stream)
        while hint.run_id != run.run_id:
            hint = await _next(stream)
        assert hint.type == "run"


async def test_closing_the_client_ends_the_stream(stepwise_server: StepwiseServer) -> None:
    client = ProtocolClient(stepwise_server.url, stepwise_server.secret)
    stream = client.notifications()
    assert await _next(stream) == Notification(type="ready")
    seen: list[Notification] = []

    async def listen() -> None:
        async for hint in stream:
            seen.append(hint)

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0.2)
    await client.aclose()
    await asyncio.wait_for(listener, 30)  # ends, rather than reconnecting to a closed client
    assert stream.live is False
