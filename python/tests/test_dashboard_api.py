"""The dashboard shows Python runs as it shows TypeScript ones: it reads only the server's run API
(docs/dashboard.md), so a Python run must be listed with `language: "python"` (and found by that
filter), and its timeline must hold its steps, in order, with their attempts, input and output —
the same routes and shapes the browser tests (test/web) check for TypeScript runs."""

from __future__ import annotations

import httpx
import pytest
from engine_fixtures import client_of, start_worker, use_app
from server import StepwiseServer

from stepwise._api.client import Client

use_app("logs")

from logsapp.workflows import logging_workflow  # noqa: E402


@pytest.fixture
async def client(stepwise_server: StepwiseServer):  # type: ignore[no-untyped-def]
    async for made in client_of(stepwise_server):
        yield made


async def _get(server: StepwiseServer, path: str, **params: str) -> dict[str, object]:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{server.url}/stepwise{path}",
            params=params,
            headers={"authorization": f"Bearer {server.secret}"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


async def test_a_python_run_is_listed_as_python_and_its_timeline_has_its_steps(
    stepwise_server: StepwiseServer, client: Client
) -> None:
    worker = await start_worker(stepwise_server)
    try:
        run = await client.start(logging_workflow, ["grace"])
        await run.return_value(timeout=30)
    finally:
        await worker.stop()

    listed = await _get(stepwise_server, "/runs", language="python", limit="1000")
    mine = [r for r in listed["runs"] if isinstance(r, dict) and r["runId"] == run.run_id]  # type: ignore[union-attr]
    assert len(mine) == 1
    assert mine[0]["language"] == "python"
    assert mine[0]["status"] == "completed"
    # The TypeScript filter leaves it out.
    typescript = await _get(stepwise_server, "/runs", language="typescript", limit="1000")
    assert run.run_id not in [r["runId"] for r in typescript["runs"]]  # type: ignore[union-attr, index]

    timeline = await _get(stepwise_server, f"/runs/{run.run_id}/timeline")
    run_view = timeline["run"]
    assert isinstance(run_view, dict)
    assert run_view["language"] == "python"
    steps = timeline["steps"]
    assert isinstance(steps, list)
    names = [str(step["name"]).rsplit("//", 1)[-1] for step in steps]
    # The first step is `talk`, then four `chatty` at once; `flaky` took two attempts.
    assert names[0] == "talk"
    assert names.count("chatty") == 4
    flaky = next(step for step in steps if str(step["name"]).endswith("//flaky"))
    assert [attempt["attempt"] for attempt in flaky["attempts"]] == [1, 2]
    assert [attempt["outcome"] for attempt in flaky["attempts"]] == ["retrying", "completed"]
    talk = steps[0]
    assert talk["input"] == ["grace"]
    assert all(attempt["endedAt"] is not None for step in steps for attempt in step["attempts"])
