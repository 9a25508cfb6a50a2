"""What a caller meets when things go wrong: a wrong secret, a server that is not there (or
restarted), a malformed request, an unknown protocol version. Each is a typed exception with a
message that says what to do, and a refused request writes nothing.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
from conftest import ServerFactory
from helpers import create_run, run_input
from server import StepwiseServer

from stepwise._protocol import (
    InvalidAnswerError,
    InvalidBodyError,
    NewEvent,
    NewInboxItem,
    PayloadTooLargeError,
    ProtocolClient,
    ProtocolError,
    ProtocolVersionError,
    ServerUnreachableError,
    UnauthorizedError,
    WorkerNotFoundError,
    WorkerWorkflow,
    WorldUnavailableError,
    with_backoff,
)
from stepwise._protocol.wire import JsonObject


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_a_wrong_secret_is_unauthorized_and_says_what_to_set(stepwise_server: StepwiseServer) -> None:
    async with ProtocolClient(stepwise_server.url, "not-the-secret") as client:
        with pytest.raises(UnauthorizedError) as refused:
            await client.runs_create(run_input())
        assert refused.value.status == 401
        assert "set STEPWISE_HTTP_SECRET to the server's" in refused.value.message
        assert stepwise_server.url in refused.value.message
        assert not refused.value.retryable
        with pytest.raises(UnauthorizedError):
            await client.notifications().__anext__()
        with pytest.raises(UnauthorizedError):
            await client.versions()


async def test_an_unreachable_server_names_its_url() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    async with ProtocolClient(url, "secret") as client:
        with pytest.raises(ServerUnreachableError) as unreachable:
            await client.runs_get("wrun_x")
        error = unreachable.value
        assert isinstance(error, WorldUnavailableError) and error.retryable
        assert error.url == url
        assert error.sent is False
        assert url in error.message and "npx stepwise server" in error.message

        attempts: list[int] = []
        with pytest.raises(ServerUnreachableError):
            await with_backoff(
                lambda: client.runs_get("wrun_x"),
                attempts=3,
                first=0.01,
                on_retry=lambda _error, attempt, _delay: attempts.append(attempt),
            )
        assert attempts == [1, 2]


async def test_a_killed_server_fails_calls_and_backoff_waits_for_its_restart(
    server_factory: ServerFactory,
) -> None:
    server = server_factory()
    async with ProtocolClient(server.url, server.secret) as client:
        run = (await create_run(client)).run
        server.kill()
        with pytest.raises(ServerUnreachableError):
            await client.runs_get(run.run_id)

        retries: list[ProtocolError] = []
        read = asyncio.create_task(
            with_backoff(
                lambda: client.runs_get(run.run_id),
                first=0.05,
                cap=0.5,
                on_retry=lambda error, _attempt, _delay: retries.append(error),
            )
        )
        await asyncio.sleep(0.5)
        assert not read.done()
        await asyncio.to_thread(server.start)  # same port, same data
        got = await asyncio.wait_for(read, 60)
        assert got.run_id == run.run_id
        assert retries and all(isinstance(e, ServerUnreachableError) for e in retries)


async def test_a_restarted_server_forgets_workers_who_register_again(server_factory: ServerFactory) -> None:
    server = server_factory()
    async with ProtocolClient(server.url, server.secret) as client:
        worker = await client.workers_register("python", [WorkerWorkflow("py_restart")])
        assert await client.tasks_lease(worker.worker_id, 1, 30_000) == ()
        await asyncio.to_thread(server.restart)
        with pytest.raises(WorkerNotFoundError) as forgotten:
            await with_backoff(lambda: client.tasks_lease(worker.worker_id, 1, 30_000), first=0.05)
        assert forgotten.value.status == 404
        again = await client.workers_register("python", [WorkerWorkflow("py_restart")])
        assert await client.tasks_lease(again.worker_id, 1, 30_000) == ()


async def test_an_invalid_body_is_refused_with_its_issues_and_writes_nothing(
    protocol_client: ProtocolClient,
) -> None:
    client = protocol_client
    run = (await create_run(client)).run
    with pytest.raises(InvalidBodyError) as invalid:
        await client.events_append(run.run_id, run.seq, [NewEvent("not_an_event", {})])
    error = invalid.value
    assert (error.status, error.code) == (400, "INVALID_BODY")
    assert error.issues and error.issues[0].path == ("events", 0, "type")
    assert (await client.runs_get(run.run_id)).seq == run.seq
    assert len(await client.events_list(run.run_id)) == 1

    # A field the operation does not have.
    def echo(obj: JsonObject) -> JsonObject:
        return obj

    transport = client._transport
    with pytest.raises(InvalidBodyError) as unknown:
        await transport.call("runs/get", {"runId": run.run_id, "extra": 1}, echo)
    assert unknown.value.issues[0].path == ("extra",)


async def test_an_unknown_protocol_version_lists_those_the_server_speaks(
    stepwise_server: StepwiseServer,
) -> None:
    async with ProtocolClient(stepwise_server.url + "/stepwise", stepwise_server.secret) as client:
        assert client.server.base == stepwise_server.url + "/stepwise/protocol/v1"
        client._transport._prefix = "/stepwise/protocol/v9/"
        with pytest.raises(ProtocolVersionError) as unsupported:
            await client.runs_get("wrun_x")
        assert unsupported.value.versions == ("v1",)


async def test_a_write_past_the_runs_budget_is_refused(protocol_client: ProtocolClient) -> None:
    client = protocol_client
    run = (await create_run(client)).run
    with pytest.raises(PayloadTooLargeError) as too_large:
        await client.inbox_put(
            NewInboxItem(run.run_id, "event", event_type="big", payload=b"\x01" + b"x" * 4096),
            max_run_bytes=1024,
        )
    assert too_large.value.status == 413
    assert await client.inbox_list(run.run_id) == ()
    with pytest.raises(PayloadTooLargeError):
        await client.streams_write(run.run_id, "out", [b"\x01" + b"x" * 4096], max_run_bytes=1024)
    assert (await client.runs_get(run.run_id)).payload_bytes == run.payload_bytes


async def test_an_address_that_is_not_a_stepwise_server_is_said() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 13\r\n\r\n<html></html>")
        await writer.drain()
        writer.close()

    other = await asyncio.start_server(answer, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{other.sockets[0].getsockname()[1]}"
    try:
        async with ProtocolClient(url, "secret") as client:
            with pytest.raises(InvalidAnswerError) as invalid:
                await client.runs_get("wrun_x")
        assert "Is STEPWISE_WORLD the address of a Stepwise server?" in invalid.value.message
    finally:
        other.close()


def test_the_fixture_fails_without_a_build(monkeypatch: pytest.MonkeyPatch) -> None:
    import server as server_module

    monkeypatch.setattr(server_module, "CLI", server_module.REPO_ROOT / "no-such-dist" / "index.js")
    with pytest.raises(pytest.fail.Exception, match="run `npm run build`"):
        server_module.start_server(server_module.REPO_ROOT / "no-such-dir")
