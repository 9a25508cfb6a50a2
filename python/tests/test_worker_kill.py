"""A Python worker SIGKILLed in the middle of a run: another worker finishes it, and no step that
had completed runs again (only the one interrupted mid-flight runs a second time)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from engine_fixtures import APPS, client_of
from server import StepwiseServer

from stepwise._api.client import Client


def spawn_worker(server: StepwiseServer, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **server.env, "PYTHONPATH": str(APPS / "killapp")}
    out = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "stepwise", "worker", "killapp.workflows"], env=env, stdout=out, stderr=out
    )


@pytest.fixture
async def client(stepwise_server: StepwiseServer):  # type: ignore[no-untyped-def]
    async for made in client_of(stepwise_server):
        yield made


async def test_a_worker_killed_mid_run_loses_no_completed_step(stepwise_server: StepwiseServer, client: Client, tmp_path: Path) -> None:
    journal = tmp_path / "journal.txt"
    journal.touch()
    log = tmp_path / "workers.log"
    first = spawn_worker(stepwise_server, log)
    second: subprocess.Popen[bytes] | None = None
    try:
        run = await client.start(
            "workflow//killapp.workflows//journal_workflow",
            [{"journal": str(journal), "steps": 6, "seconds": 0.3}],
        )
        # Kill it while the third step runs.
        for _ in range(400):
            if "start s2" in journal.read_text():
                break
            await asyncio.sleep(0.025)
        else:
            raise AssertionError(f"the first worker never reached step s2:\n{log.read_text()}")
        first.send_signal(signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
        killed_at = journal.read_text()
        assert "start s2" in killed_at and "done s2" not in killed_at  # it died mid-step
        second = spawn_worker(stepwise_server, log)
        assert await run.return_value(timeout=60) == [f"s{i}" for i in range(6)]
        lines = journal.read_text().splitlines()
        for index in range(6):
            starts = lines.count(f"start s{index}")
            # The interrupted step runs again; every other step exactly once.
            assert starts == (2 if index == 2 else 1), (index, lines)
            assert lines.count(f"done s{index}") == 1, (index, lines)
        events = await client.protocol.events_list(run.run_id)
        completed = [event.data["stepId"] for event in events if event.type == "step_completed"]
        assert len(completed) == len(set(completed)) == 6
        attempts = [event.data["attempt"] for event in events if event.type == "step_started"]
        assert attempts.count(2) == 1  # the interrupted one, as attempt 2
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
