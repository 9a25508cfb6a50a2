"""Shared pytest setup for the Python SDK's tests, and the fixtures that start real Stepwise servers.

Fixtures (see server.py for the server itself):

- `stepwise_server` (session): one real `stepwise server` on the SQLite World in a temporary
  directory, with a random secret, shared by the session's tests; give each test its own run ids.
- `server_factory` (function): `server_factory()` starts a server of the test's own (optionally
  `data_dir=`, `port=`); every server it started is stopped at teardown. For tests that restart,
  stop or SIGKILL a server (`server.restart()`, `server.kill()`).
- `protocol_client` (function): a `ProtocolClient` of `stepwise_server`, closed at teardown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from server import REPO_ROOT, StepwiseServer, start_server

from stepwise._protocol import ProtocolClient

__all__ = ["REPO_ROOT"]


@pytest.fixture(scope="session")
def stepwise_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StepwiseServer]:
    """One real Stepwise server for the whole session (SQLite World in a temporary directory)."""
    server = start_server(tmp_path_factory.mktemp("stepwise-server"))
    yield server
    server.stop()


ServerFactory = Callable[..., StepwiseServer]


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[ServerFactory]:
    """Starts servers of the test's own: `server_factory(data_dir=None, port=0)`; stops them all after."""
    started: list[StepwiseServer] = []

    def start(data_dir: Path | None = None, port: int = 0, env: dict[str, str] | None = None) -> StepwiseServer:
        server = start_server(data_dir or tmp_path / f"server-{len(started) + 1}", port=port, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
async def protocol_client(stepwise_server: StepwiseServer) -> AsyncIterator[ProtocolClient]:
    """A `ProtocolClient` of the session's server, closed after the test."""
    client = ProtocolClient(stepwise_server.url, stepwise_server.secret)
    yield client
    await client.aclose()
