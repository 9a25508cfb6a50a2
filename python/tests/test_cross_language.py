"""Python and TypeScript on one engine, over a real server: TypeScript starts a Python workflow
by its plain name (keyword arguments as one trailing object) and reads its result; Python starts
a TypeScript workflow; hooks are resumed, events sent and streams read across the two; and
`npx stepwise inspect` shows a Python run with its steps."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_fixtures import client_of, start_worker, use_app
from server import REPO_ROOT, StepwiseServer

from stepwise._api.client import Client

use_app("seed000")
use_app("xlang")

import app.workflows.ai_content_workflow  # noqa: E402,F401  (registers it for the worker)
from xlang.workflows import Decision, PyEvents, py_greeter  # noqa: E402

TS_WORKFLOW = """
import { createHook, getWritable, waitForEvent } from "stepwise-workflows";

async function double(n: number) {
  "use step";
  const writer = getWritable().getWriter();
  await writer.write({ n, twice: n * 2 });
  await writer.close();
  return n * 2;
}

export async function tsGreeter(options: { n: number; token: string }) {
  "use workflow";
  const twice = await double(options.n);
  const hook = createHook<{ note: string }>({ token: options.token });
  let note = "";
  for await (const payload of hook) {
    note = payload.note;
    break;
  }
  const event = await waitForEvent<{ x: number }>("from-python", { timeout: "1m" });
  return { twice, note, x: event.payload.x };
}
"""

TS_CLIENT = """
import { getRun, resumeHook, start } from "stepwise-workflows/api";

const [command, ...args] = process.argv.slice(2);
if (command === "start-py") {
  const run = await start("ai_content_workflow", [{ topic: args[0] }]);
  console.log(JSON.stringify({ runId: run.runId, result: await run.returnValue }));
} else if (command === "greet") {
  const run = await start("py_greeter", [{ name: args[0], token: args[1] }]);
  const words = [];
  for await (const chunk of run.getReadable()) words.push(chunk.word);
  console.log(JSON.stringify({ runId: run.runId, words }));
} else if (command === "resume") {
  await resumeHook(args[0], { decision: args[1] });
  console.log("{}");
} else if (command === "event") {
  await getRun(args[0]).sendEvent("from-ts", { sent: "by typescript" });
  console.log("{}");
} else if (command === "result") {
  console.log(JSON.stringify(await getRun(args[0]).returnValue));
}
process.exit(0);
"""


@pytest.fixture
def ts_project(tmp_path: Path) -> Path:
    project = tmp_path / "ts-app"
    (project / "workflows").mkdir(parents=True)
    (project / "node_modules" / ".bin").mkdir(parents=True)
    (project / "package.json").write_text(json.dumps({"name": "ts-app", "type": "module"}))
    (project / "node_modules" / "stepwise-workflows").symlink_to(REPO_ROOT, target_is_directory=True)
    (project / "workflows" / "greeter.ts").write_text(TS_WORKFLOW)
    (project / "client.mjs").write_text(TS_CLIENT)
    return project


def node(project: Path, server: StepwiseServer, *args: str) -> dict[str, object]:
    env = {**os.environ, **server.env, "STEPWISE_WORKER": "0"}
    done = subprocess.run(
        ["node", "client.mjs", *args], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


@pytest.fixture
def ts_worker(ts_project: Path, stepwise_server: StepwiseServer) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, **stepwise_server.env}
    log = (ts_project / "worker.log").open("wb")
    cli = str(REPO_ROOT / "dist" / "cli" / "index.js")
    process = subprocess.Popen(["node", cli, "worker", "workflows/greeter.ts"], cwd=ts_project, env=env, stdout=log, stderr=log)
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
async def client(stepwise_server: StepwiseServer):  # type: ignore[no-untyped-def]
    async for made in client_of(stepwise_server):
        yield made


@pytest.fixture
async def worker(stepwise_server: StepwiseServer, client):  # type: ignore[no-untyped-def]
    running = await start_worker(stepwise_server)
    yield running
    await running.stop()


async def test_typescript_starts_a_python_workflow_by_name_and_reads_its_result(worker, ts_project: Path, stepwise_server: StepwiseServer, client: Client) -> None:  # type: ignore[no-untyped-def]
    answer = await asyncio.to_thread(node, ts_project, stepwise_server, "start-py", "x")
    assert answer["result"] == {"draft": "DRAFT[Write a blog post about x]", "summary": "SUMMARY[DRAFT[Write a blog p]"}
    record = await client.get_run(str(answer["runId"])).record()
    assert record.workflow_name == "workflow//app.workflows.ai_content_workflow//ai_content_workflow"
    assert record.bundle_hash is not None and record.bundle_hash.startswith("py-")


async def test_a_python_stream_read_in_typescript_and_a_hook_resumed_from_typescript(worker, ts_project: Path, stepwise_server: StepwiseServer, client: Client) -> None:  # type: ignore[no-untyped-def]
    token = f"xlang-{os.getpid()}"
    greeting = asyncio.create_task(asyncio.to_thread(node, ts_project, stepwise_server, "greet", "ada", token))
    answer = await greeting
    assert answer["words"] == ["HELLO", "ADA"]
    run = client.get_run(str(answer["runId"]))
    for _ in range(200):
        try:
            await client.protocol.hooks_get_by_token(token)
            break
        except Exception:
            await asyncio.sleep(0.05)
    await asyncio.to_thread(node, ts_project, stepwise_server, "resume", token, "approved")
    assert await run.return_value(timeout=30) == {"loud": "HELLO ADA", "decision": "approved"}


async def test_an_event_sent_from_typescript_to_a_python_wait(worker, ts_project: Path, stepwise_server: StepwiseServer) -> None:  # type: ignore[no-untyped-def]
    instance = await PyEvents.create()
    await asyncio.to_thread(node, ts_project, stepwise_server, "event", instance.id)
    assert await instance.run.return_value(timeout=30) == {"payload": {"sent": "by typescript"}, "instance": instance.id}


async def test_python_starts_a_typescript_workflow_reads_its_stream_resumes_its_hook_and_sends_its_event(ts_worker, ts_project: Path, stepwise_server: StepwiseServer, client: Client) -> None:  # type: ignore[no-untyped-def]
    token = f"ts-hook-{os.getpid()}"
    # The TypeScript worker tells the server which workflows it drives: Python starts one by its
    # plain name once it is listed.
    for _ in range(400):
        if "workflow//workflows/greeter.ts//tsGreeter" in await client.protocol.workflows_list():
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError((ts_project / "worker.log").read_text())
    run = await client.start("tsGreeter", [{"n": 21, "token": token}])
    chunks = [chunk async for chunk in run.get_readable()]
    assert chunks == [{"n": 21, "twice": 42}]
    for _ in range(400):
        try:
            await client.protocol.hooks_get_by_token(token)
            break
        except Exception:
            await asyncio.sleep(0.05)
    else:
        raise AssertionError((ts_project / "worker.log").read_text())
    await client.resume_hook(token, {"note": "from python"})
    await run.send_event("from-python", {"x": 7})
    assert await run.return_value(timeout=30) == {"twice": 42, "note": "from python", "x": 7}
    # Read back from TypeScript too.
    assert await asyncio.to_thread(node, ts_project, stepwise_server, "result", run.run_id) == {
        "twice": 42,
        "note": "from python",
        "x": 7,
    }


async def test_inspect_shows_python_runs_with_their_steps(worker, stepwise_server: StepwiseServer, client: Client, ts_project: Path) -> None:  # type: ignore[no-untyped-def]
    run = await client.start(py_greeter, [{"name": "bo", "token": f"inspect-{os.getpid()}"}])
    for _ in range(200):
        if (await run.status()) == "running" and await client.protocol.steps_list(run.run_id):
            break
        await asyncio.sleep(0.05)
    await Decision(decision="ok").resume(f"inspect-{os.getpid()}")
    await run.wait(30)
    env = {**os.environ, **stepwise_server.env}
    cli = str(REPO_ROOT / "dist" / "cli" / "index.js")
    runs = subprocess.run(["node", cli, "inspect", "runs", "--workflow", "py_greeter"], cwd=ts_project, env=env, capture_output=True, text=True, timeout=60)
    assert runs.returncode == 0, runs.stderr
    assert run.run_id in runs.stdout and "completed" in runs.stdout
    steps = subprocess.run(["node", cli, "inspect", "steps", run.run_id], cwd=ts_project, env=env, capture_output=True, text=True, timeout=60)
    assert steps.returncode == 0, steps.stderr
    [row] = [line for line in steps.stdout.splitlines() if line.startswith("step_")]
    assert row.split()[1:4] == ["shout", "completed", "1"]
    assert row.endswith('"HELLO BO"')  # TypeScript decodes the result a Python step stored


async def test_a_python_webhook_receives_an_http_request(worker, stepwise_server: StepwiseServer, client: Client) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from xlang.workflows import URLS, py_webhook

    URLS.clear()
    run = await client.start(py_webhook)
    for _ in range(200):
        if URLS:
            break
        await asyncio.sleep(0.05)
    token = URLS[0].rsplit("/webhooks/", 1)[1]
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{stepwise_server.url}/stepwise/webhooks/{token}", json={"paid": 42})
    assert answer.status_code == 202
    assert await run.return_value(timeout=30) == {"method": "POST", "json": {"paid": 42}, "type": "application/json"}
