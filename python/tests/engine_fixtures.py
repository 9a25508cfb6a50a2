"""Fixtures for tests that run workflows end to end: a Python worker in this process (an asyncio
task) against a real server, and the process's default client pointed at that server."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from server import StepwiseServer

from stepwise._api.client import Client, set_default_client
from stepwise._api.worker import make_worker
from stepwise._engine.worker import Worker, WorkerOptions
from stepwise._protocol import ProtocolClient

APPS = Path(__file__).parent / "apps"


def use_app(name: str) -> None:
    """Puts `tests/apps/<name>` on sys.path, so its `app` package imports as in the seed."""
    path = str(APPS / name)
    if path not in sys.path:
        sys.path.insert(0, path)


class RunningWorker:
    """A worker task of this process, stopped gracefully by `stop()`."""

    def __init__(self, worker: Worker, task: asyncio.Task[None], client: ProtocolClient) -> None:
        self.worker = worker
        self.task = task
        self.client = client

    async def stop(self) -> None:
        await self.worker.stop()
        await asyncio.wait_for(self.task, 30)
        await self.client.aclose()


async def start_worker(server: StepwiseServer, **options: object) -> RunningWorker:
    """A Python worker for every workflow registered in this process, on `server`."""
    client = ProtocolClient(server.url, server.secret)
    worker = make_worker(client, WorkerOptions(hold_ms=200, **options))  # type: ignore[arg-type]
    task = asyncio.create_task(worker.run())
    return RunningWorker(worker, task, client)


async def client_of(server: StepwiseServer) -> AsyncIterator[Client]:
    client = Client(server.url, server.secret)
    set_default_client(client)
    try:
        yield client
    finally:
        set_default_client(None)
        await client.aclose()
