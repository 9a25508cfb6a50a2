"""A Python step's output is stored as a TypeScript step's is (docs/architecture.md "Step logs"):
`print()`, writes to stderr and `logging` records of each attempt, per attempt even for steps
running at once, bounded, on the attempt's outcome event, and shown by the server's
`GET /runs/:runId/logs` and `npx stepwise inspect logs` exactly like a TypeScript run's."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

import httpx
import pytest
from engine_fixtures import client_of, start_worker, use_app
from server import REPO_ROOT, StepwiseServer

from stepwise._api.client import Client
from stepwise._engine.output import MAX_LOG_LINES, LogBuffer

use_app("logs")

from logsapp.workflows import chatty_workflow, logging_workflow  # noqa: E402


@pytest.fixture
async def client(stepwise_server: StepwiseServer):  # type: ignore[no-untyped-def]
    async for made in client_of(stepwise_server):
        yield made


async def _logs(server: StepwiseServer, run_id: str, **params: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{server.url}/stepwise/runs/{run_id}/logs",
            params={"limit": "5000", **params},
            headers={"authorization": f"Bearer {server.secret}"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["nextCursor"] is None
    return list(body["logs"])


def _short(entry: dict[str, object]) -> str:
    return str(entry["stepName"]).rsplit("//", 1)[-1]


async def test_a_python_steps_output_is_stored_with_its_outcome(
    stepwise_server: StepwiseServer, client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    worker = await start_worker(stepwise_server)
    try:
        run = await client.start(logging_workflow, ["ada"])
        result = await run.return_value(timeout=30)
    finally:
        await worker.stop()
    assert result == {"said": "ada", "parts": ["p0", "p1", "p2", "p3"], "attempts": 2, "threaded": "ada"}
    # Still printed (a tee).
    printed = capsys.readouterr()
    assert "hello ada {'n': 1}" in printed.out
    assert "to stderr" in printed.err

    entries = await _logs(stepwise_server, run.run_id)
    talk = [(e["level"], e["text"]) for e in entries if _short(e) == "talk"]
    assert talk == [("stdout", "hello ada {'n': 1}"), ("stderr", "to stderr"), ("warn", "careful with ada")]
    # Four steps at once: each attempt its own lines, in order.
    chatty = [e for e in entries if _short(e) == "chatty"]
    assert len(chatty) == 16
    for i in range(4):
        mine = [e["text"] for e in chatty if str(e["text"]).startswith(f"p{i} ")]
        assert mine == [f"p{i} line {k}" for k in range(4)]
    assert len({e["stepId"] for e in chatty}) == 4
    # Each attempt of a retried step keeps its own.
    assert [(e["attempt"], e["text"]) for e in entries if _short(e) == "flaky"] == [
        (1, "flaky attempt 1"),
        (2, "flaky attempt 2"),
    ]
    # The bound, and the note in place of what was left out.
    flood = [e for e in entries if _short(e) == "flood"]
    assert len(flood) == MAX_LOG_LINES + 1
    assert flood[MAX_LOG_LINES - 1]["text"] == f"flood line {MAX_LOG_LINES - 1}"
    assert flood[-1]["level"] == "truncated" and "500 more lines" in str(flood[-1]["text"])
    # A plain function runs in a thread: its output is the attempt's too.
    assert [e["text"] for e in entries if _short(e) == "blocking"] == ["from a thread ada"]

    events = await client.protocol.events_list(run.run_id)
    with_logs = [event.type for event in events if "logs" in event.data]
    assert with_logs.count("step_retrying") == 1
    # The TypeScript CLI reads a Python run's output as it reads its own.
    shown = subprocess.run(
        ["node", str(REPO_ROOT / "dist/cli/index.js"), "inspect", "logs", run.run_id, "--step", "talk", "--json"],
        env={**stepwise_server.env, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    items = json.loads(shown.stdout)["items"]
    assert [item["text"] for item in items] == ["hello ada {'n': 1}", "to stderr", "careful with ada"]


async def test_the_workflow_bodys_output_is_stored_once_and_not_printed_again_on_replay(
    stepwise_server: StepwiseServer, client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    first = await start_worker(stepwise_server)
    run = await client.start(chatty_workflow, ["lin"])
    try:
        # Until it sleeps: its first lines printed and stored with the append that followed them.
        for _ in range(300):
            events = await client.protocol.events_list(run.run_id)
            if any(event.type == "wait_created" for event in events):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the run never went to sleep")
    finally:
        await first.stop()
    # Another worker (another machine) replays the body from the start, past the prints.
    second = await start_worker(stepwise_server)
    try:
        assert await run.return_value(timeout=30) == "lin"
    finally:
        await second.stop()
    printed = capsys.readouterr()
    assert printed.out.count("begins lin") == 1
    assert printed.out.count("after sleep lin") == 1
    body = [(e["level"], e["text"]) for e in await _logs(stepwise_server, run.run_id) if e["stepId"] is None]
    assert body == [("stdout", "begins lin"), ("warn", "body warns about lin"), ("stdout", "after sleep lin")]
    assert all(e["stepName"] is None and e["attempt"] is None for e in await _logs(stepwise_server, run.run_id) if e["stepId"] is None)


def test_a_buffer_keeps_64_kb_and_splits_direct_writes_into_lines() -> None:
    buffer = LogBuffer(lambda: 7)
    buffer.write("stdout", "partial ")
    buffer.write("stdout", "line\nsecond\n")
    buffer.write("stdout", "no newline")
    for _ in range(100):
        buffer.add("info", "x" * 1000)
    logs = buffer.take()
    assert logs is not None
    assert [line.text for line in logs.lines[:2]] == ["partial line", "second"]
    assert all(line.at == 7 for line in logs.lines)
    # 2 short lines, 65 whole ones, and the one that crossed the bound cut to what fits.
    assert sum(len(line.text.encode()) for line in logs.lines) == 64 * 1024
    assert len(logs.lines) == 68
    assert logs.truncated == (35, 34 * 1000 + 482 + len("no newline"))
    buffer.add("info", "after the end")
    assert all(line.text != "after the end" for line in logs.lines)


def test_a_direct_write_that_never_ends_its_line_is_not_held_whole() -> None:
    buffer = LogBuffer(lambda: 1)
    for _ in range(200):
        buffer.write("stdout", "y" * 1024)
    logs = buffer.take()
    assert logs is not None
    assert logs.lines[0].text == "y" * (64 * 1024)
    assert logs.truncated is not None
