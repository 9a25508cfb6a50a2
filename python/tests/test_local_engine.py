"""With nothing configured, the SDK runs the project's local engine itself (`npx stepwise server`
on SQLite in the project's .stepwise/), says so, and every later process of the project shares
it: the newcomer's path, in a fresh project folder with the npm package installed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from server import REPO_ROOT

SCRIPT = """
import asyncio
from stepwise import workflow
from stepwise._api.worker import make_worker
from stepwise._api.devserver import server_settings
from stepwise._protocol import ProtocolClient

wf = workflow.Workflows()

@wf.step
async def add(a, b):
    return a + b

@wf.workflow
async def adder(*, a: int, b: int):
    return await add(a, b)

async def main():
    url, secret = server_settings()
    async with ProtocolClient(url, secret) as client:
        worker = make_worker(client)
        task = asyncio.create_task(worker.run())
        run = await workflow.start(adder, a=2, b=40)
        print("result", await run.return_value(timeout=30))
        await worker.stop()
        await task

asyncio.run(main())
"""


def test_the_local_engine_starts_once_and_is_shared(tmp_path: Path) -> None:
    project = tmp_path / "fresh-project"
    (project / "node_modules").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'fresh'\nversion = '0'\n")
    (project / "node_modules" / "stepwise-workflows").symlink_to(REPO_ROOT, target_is_directory=True)
    (project / "app.py").write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPWISE_")}
    pid = None
    try:
        first = subprocess.run([sys.executable, "app.py"], cwd=project, env=env, capture_output=True, text=True, timeout=90)
        assert first.returncode == 0, first.stderr
        assert "result 42" in first.stdout
        assert "no STEPWISE_WORLD is set, so a local engine runs for this project" in first.stderr
        state = json.loads((project / ".stepwise" / "dev-server.json").read_text())
        pid = int(state["pid"])
        assert (project / ".stepwise" / "stepwise.db").exists()
        second = subprocess.run([sys.executable, "app.py"], cwd=project, env=env, capture_output=True, text=True, timeout=90)
        assert second.returncode == 0, second.stderr
        assert "result 42" in second.stdout
        assert "local engine runs" not in second.stderr  # the same engine, already said
        assert json.loads((project / ".stepwise" / "dev-server.json").read_text())["pid"] == pid
    finally:
        if pid is not None:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
