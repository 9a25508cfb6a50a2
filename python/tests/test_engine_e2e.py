"""The engine's rules end to end, over a real server: Vercel-style retries (RetryableError with
retry_after, FatalError), sleeping until a time, runs pinned to a code version handed only to a
worker with that code, and encryption shared with TypeScript."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
from pathlib import Path

import pytest
from engine_fixtures import client_of, start_worker, use_app
from server import REPO_ROOT, StepwiseServer

from stepwise._api.client import Client, new_run_id
from stepwise._api.registry import code_version
from stepwise._protocol import CreateRunInput
from stepwise._serde import PayloadCodec, places, stringify

use_app("misc")

from miscapp.workflows import TRIES, Alarm, pipeline, retrying  # noqa: E402


@pytest.fixture
async def client(stepwise_server: StepwiseServer):  # type: ignore[no-untyped-def]
    async for made in client_of(stepwise_server):
        yield made


async def test_retryable_and_fatal_errors_in_the_vercel_style(stepwise_server: StepwiseServer, client: Client) -> None:
    TRIES.clear()
    worker = await start_worker(stepwise_server)
    try:
        run = await client.start(retrying, ["k1"])
        assert await run.return_value(timeout=20) == {"attempts": 3, "fatal": "no: the account is closed"}
        assert TRIES == {"k1": 3, "refuses": 1}
        events = await client.protocol.events_list(run.run_id)
        retries = [event for event in events if event.type == "step_retrying"]
        assert [event.data["attempt"] for event in retries] == [1, 2]
        for event in retries:  # retry_after=0.05 s: the next attempt is due 50 ms later
            assert 0 <= int(str(event.data["retryAt"])) - event.created_at <= 60
    finally:
        await worker.stop()


async def test_sleep_until_a_time(stepwise_server: StepwiseServer, client: Client) -> None:
    worker = await start_worker(stepwise_server)
    try:
        instance = await Alarm.create()
        assert await instance.run.return_value(timeout=20) == "rang"
        record = await instance.run.record()
        waits = await client.protocol.waits_list(run_id=instance.id)
        assert [wait.resume_at - record.created_at for wait in waits] == [1000]
    finally:
        await worker.stop()


async def test_a_run_pinned_to_other_code_waits_for_a_worker_with_that_code(stepwise_server: StepwiseServer, client: Client) -> None:
    # A run of `pipeline` pinned to a version no worker here has, beside one started normally.
    codec = PayloadCodec()
    run_id = new_run_id()
    text = stringify(["old"])
    await client.protocol.runs_create(
        CreateRunInput(
            run_id=run_id,
            workflow_name="workflow//miscapp.workflows//pipeline",
            spec_version=5,
            seed=secrets.token_hex(16),
            encrypted=False,
            input=codec.seal(text, places.RUN_INPUT, run_id, False),
            bundle_hash="py-000000000000000000000000",
        )
    )
    worker = await start_worker(stepwise_server)
    try:
        current = await client.start(pipeline, ["new"])
        assert await current.return_value(timeout=20) == {"upper": "NEW", "at": True}
        assert (await current.record()).bundle_hash == code_version()
        await asyncio.sleep(1.0)
        old = await client.get_run(run_id).record()
        assert old.status == "pending" and old.bundle_hash == "py-000000000000000000000000"
        assert [event.type for event in await client.protocol.events_list(run_id)] == ["run_created"]
    finally:
        await worker.stop()


async def test_encrypted_runs_between_python_and_typescript(server_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    key = secrets.token_hex(32)
    server = server_factory(env={"STEPWISE_ENCRYPTION_KEY": key})
    monkeypatch.setenv("STEPWISE_ENCRYPTION_KEY", key)
    async for client in client_of(server):
        worker = await start_worker(server)
        try:
            run = await client.start(pipeline, ["secret text"])
            assert await run.return_value(timeout=20) == {"upper": "SECRET TEXT", "at": True}
            record = await run.record()
            assert record.encrypted
            events = await client.protocol.events_list(run.run_id)
            stored = [event.payload for event in events if event.payload is not None]
            assert stored and all(payload[0] == 0x03 for payload in stored)  # sealed, every one
            assert all(b"SECRET" not in payload for payload in stored)
            # TypeScript, with the same key, reads what Python stored.
            script = (
                'import { getRun } from "stepwise-workflows/api";'
                f'console.log(JSON.stringify(await getRun("{run.run_id}").returnValue)); process.exit(0);'
            )
            project = tmp_path / "reader"
            (project / "node_modules").mkdir(parents=True)
            (project / "package.json").write_text('{"name":"reader","type":"module"}')
            (project / "node_modules" / "stepwise-workflows").symlink_to(REPO_ROOT, target_is_directory=True)
            (project / "read.mjs").write_text(script)
            env = {**os.environ, **server.env, "STEPWISE_WORKER": "0", "STEPWISE_ENCRYPTION_KEY": key}
            done = await asyncio.to_thread(
                subprocess.run, ["node", "read.mjs"], cwd=project, env=env, capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, done.stderr
            assert done.stdout.strip() == '{"upper":"SECRET TEXT","at":true}'
        finally:
            await worker.stop()


async def test_a_restart_from_a_step_keeps_what_came_before_it(stepwise_server: StepwiseServer, client: Client) -> None:
    from miscapp.workflows import EXECUTED, three_stages

    EXECUTED.clear()
    worker = await start_worker(stepwise_server)
    try:
        run = await client.start(three_stages)
        assert await run.return_value(timeout=20) == ["one", "two", "three"]
        answer = await run.restart(from_step="stage", occurrence=2)
        assert answer["generation"] == 2 and answer["keptCalls"] == 1
        assert await run.return_value(timeout=20) == ["one", "two", "three"]
        # The first call was kept (its result replayed); the second and the rest ran again.
        assert EXECUTED == ["one", "two", "three", "two", "three"]
        events = await client.protocol.events_list(run.run_id)
        assert [event.type for event in events].count("run_restarted") == 1
    finally:
        await worker.stop()


async def test_a_run_started_by_a_process_with_other_modules_runs_on_the_workers(stepwise_server: StepwiseServer, client: Client) -> None:
    # A web app imports the one workflow it starts; the workers import the whole application.
    # Their code versions differ, and the run must still reach a worker (the worker pins it).
    import sys

    from engine_fixtures import APPS

    script = (
        "import asyncio\n"
        "from stepwise import workflow\n"
        "from miscapp.workflows import pipeline\n"
        "import miscapp.webonly\n"
        "async def main():\n"
        "    run = await workflow.start(pipeline, 'from a web app')\n"
        "    print(run.run_id)\n"
        "asyncio.run(main())\n"
    )
    env = {**os.environ, **stepwise_server.env, "PYTHONPATH": str(APPS / "misc")}
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    run = client.get_run(done.stdout.strip())
    worker = await start_worker(stepwise_server)
    try:
        assert await run.return_value(timeout=20) == {"upper": "FROM A WEB APP", "at": True}
        assert (await run.record()).bundle_hash == code_version()
    finally:
        await worker.stop()
