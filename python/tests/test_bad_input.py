"""What a user is told when something is wrong: each case gets a typed exception whose message
says what to do, and nothing is written."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from engine_fixtures import APPS, client_of, start_worker, use_app
from server import StepwiseServer

from stepwise import RunFailedError, WorkflowNotFoundError
from stepwise._api.check import WorkflowCodeError
from stepwise._api.client import Client
from stepwise._protocol import ServerUnreachableError, UnauthorizedError

use_app("badapp")

from badapp.workflows import opens_a_file, unserializable_result  # noqa: E402


@pytest.fixture
async def client(stepwise_server: StepwiseServer):  # type: ignore[no-untyped-def]
    async for made in client_of(stepwise_server):
        yield made


async def test_a_step_returning_what_cannot_be_stored_fails_the_step_at_once(stepwise_server: StepwiseServer, client: Client) -> None:
    worker = await start_worker(stepwise_server)
    try:
        run = await client.start(unserializable_result)
        with pytest.raises(RunFailedError) as failed:
            await run.return_value(timeout=20)
        message = str(failed.value)
        assert "returns_a_socket returned a value that cannot be stored" in message
        assert "socket" in message
        events = await client.protocol.events_list(run.run_id)
        [failure] = [event for event in events if event.type == "step_failed"]
        assert failure.data["fatal"] is True and failure.data["attempt"] == 1
    finally:
        await worker.stop()


async def test_workflow_code_that_opens_a_file_fails_with_the_durable_alternative(stepwise_server: StepwiseServer, client: Client) -> None:
    worker = await start_worker(stepwise_server)
    try:
        run = await client.start(opens_a_file)
        with pytest.raises(RunFailedError, match="read and write files in a step"):
            await run.return_value(timeout=20)
    finally:
        await worker.stop()


def test_wall_clock_calls_in_workflow_code_are_refused_where_they_are_declared() -> None:
    from stepwise import workflow

    wf = workflow.Workflows()
    with pytest.raises(WorkflowCodeError) as refused:

        @wf.workflow
        async def clocked() -> str:
            from datetime import datetime

            return datetime.now().isoformat()

    message = str(refused.value)
    assert "test_bad_input.py:" in message and "datetime.now()" in message and "workflow.now()" in message


async def test_an_unknown_workflow_name_is_refused_listing_the_known_ones(client: Client) -> None:
    before = await client.protocol.runs_list()
    with pytest.raises(WorkflowNotFoundError, match='No workflow named "no_such_workflow" is known'):
        await client.start("no_such_workflow", [])
    after = await client.protocol.runs_list()
    assert [run.run_id for run in after.items] == [run.run_id for run in before.items]


async def test_a_wrong_secret_is_refused_with_what_to_set(stepwise_server: StepwiseServer) -> None:
    wrong = Client(stepwise_server.url, "not-the-secret-" + "x" * 20)
    try:
        with pytest.raises(UnauthorizedError, match="STEPWISE_HTTP_SECRET"):
            await wrong.start("workflow//badapp.workflows//opens_a_file", [])
    finally:
        await wrong.aclose()


async def test_an_unreachable_server_is_a_typed_error_naming_it() -> None:
    nobody = Client("http://127.0.0.1:9", "s" * 40)
    try:
        with pytest.raises(ServerUnreachableError, match="127.0.0.1:9"):
            await nobody.start("workflow//badapp.workflows//opens_a_file", [])
    finally:
        await nobody.aclose()


def test_a_worker_without_a_server_retries_and_says_so_once(tmp_path: Path) -> None:
    env = {**os.environ, "STEPWISE_WORLD": "http://127.0.0.1:9", "STEPWISE_HTTP_SECRET": "s" * 40, "PYTHONPATH": str(APPS / "badapp")}
    process = subprocess.Popen(
        [sys.executable, "-m", "stepwise", "worker", "badapp.workflows"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = process.communicate(timeout=4)
    except subprocess.TimeoutExpired:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    lines = [line for line in output.splitlines() if "Retrying with backoff" in line]
    assert len(lines) == 1, output  # said once, though it retried for seconds
    assert "127.0.0.1:9" in lines[0]


async def test_a_python_worker_with_nothing_configured_and_no_node_package_says_what_to_install(tmp_path: Path) -> None:
    project = tmp_path / "py-project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPWISE_")}
    env["PYTHONPATH"] = str(APPS / "badapp")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "stepwise", "worker", "badapp.workflows"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert "npm install stepwise-workflows" in done.stderr
    assert not (project / ".stepwise" / "dev-server.json").exists()
