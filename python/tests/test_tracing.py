"""OpenTelemetry in the Python SDK (docs/tracing.md), over a real server, with the SDK's in-memory
exporter in this process: a Python workflow started from TypeScript inside a TypeScript span runs
its steps in that trace — each attempt a span under the start span TypeScript recorded with the
run, current in the step body (the user's span nests under it), a retried step with two attempts,
their outcome and retry delay, the sleep and the run with the times the log recorded — and a run
started from Python inside a Python span does the same. The derived root of a run started without
a context is the one TypeScript derives."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_fixtures import client_of, start_worker, use_app
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from server import REPO_ROOT, StepwiseServer

from stepwise._api.client import Client
from stepwise._engine.tracing import derived_traceparent, parse_traceparent

use_app("traced")

from traced.workflows import traced_order  # noqa: E402

EXPORTER = InMemorySpanExporter()

TS_CLIENT = """
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { start } from "stepwise-workflows/api";

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider());
const answer = await trace.getTracer("ts-app").startActiveSpan("ts caller", async (span) => {
  const run = await start("traced_order", [{ item: process.argv[2] }]);
  span.end();
  return { runId: run.runId, traceId: span.spanContext().traceId, result: await run.returnValue };
});
console.log(JSON.stringify(answer));
process.exit(0);
"""

@pytest.fixture(scope="module", autouse=True)
def tracer_provider() -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)
    yield provider


@pytest.fixture
def ts_project(tmp_path: Path) -> Path:
    project = tmp_path / "ts-traced"
    (project / "node_modules").mkdir(parents=True)
    (project / "package.json").write_text(json.dumps({"name": "ts-traced", "type": "module"}))
    (project / "node_modules" / "stepwise-workflows").symlink_to(REPO_ROOT, target_is_directory=True)
    # The application's own OpenTelemetry packages (the same files Stepwise resolves).
    (project / "node_modules" / "@opentelemetry").symlink_to(REPO_ROOT / "node_modules" / "@opentelemetry")
    (project / "client.mjs").write_text(TS_CLIENT)
    return project


@pytest.fixture
async def client(stepwise_server: StepwiseServer):  # type: ignore[no-untyped-def]
    async for made in client_of(stepwise_server):
        yield made


@pytest.fixture
async def worker(stepwise_server: StepwiseServer, client):  # type: ignore[no-untyped-def]
    running = await start_worker(stepwise_server)
    yield running
    await running.stop()


def _run_spans(run_id: str) -> list[ReadableSpan]:
    return [span for span in EXPORTER.get_finished_spans() if (span.attributes or {}).get("stepwise.run.id") == run_id]


async def _check_run(client: Client, run_id: str, trace_id: int, parent_span_id: int) -> None:
    # The worker emits the run's span once its append is answered: maybe after the client saw the end.
    for _ in range(200):
        if any(span.name == "run traced_order" for span in _run_spans(run_id)):
            break
        await asyncio.sleep(0.05)
    _check_steps(run_id, trace_id, parent_span_id)
    # The sleep and the run: under the same parent, with the times the log recorded.
    log = await client.protocol.events_list(run_id)
    at = {event.type: event.created_at for event in log}
    spans = {span.name: span for span in _run_spans(run_id)}
    for name, (begin, end) in {
        "sleep": ("wait_created", "wait_completed"),
        "run traced_order": ("run_created", "run_completed"),
    }.items():
        span = spans[name]
        assert span.context is not None and span.context.trace_id == trace_id
        assert span.parent is not None and span.parent.span_id == parent_span_id
        assert (span.start_time, span.end_time) == (at[begin] * 1_000_000, at[end] * 1_000_000)
    assert (spans["run traced_order"].attributes or {})["stepwise.run.status"] == "completed"
    assert (spans["sleep"].attributes or {})["stepwise.wait.outcome"] == "completed"


def _check_steps(run_id: str, trace_id: int, parent_span_id: int) -> None:
    spans = [span for span in _run_spans(run_id) if span.name.startswith("step ")]
    names = sorted(span.name for span in spans)
    assert names == ["step pack", "step ship", "step ship"], names
    for span in spans:
        assert span.context is not None and span.context.trace_id == trace_id
        assert span.parent is not None and span.parent.span_id == parent_span_id
    pack = next(span for span in spans if span.name == "step pack")
    assert dict(pack.attributes or {}) == {
        "stepwise.run.id": run_id,
        "stepwise.workflow.name": "workflow//traced.workflows//traced_order",
        "stepwise.step.name": "step//traced.workflows//pack",
        "stepwise.step.id": (pack.attributes or {})["stepwise.step.id"],
        "stepwise.step.attempt": 1,
        "stepwise.step.outcome": "completed",
    }
    # The user's span, inside the step body, is a child of the attempt's span.
    user = [
        span
        for span in EXPORTER.get_finished_spans()
        if span.name == "user work" and span.context is not None and span.context.trace_id == trace_id
    ]
    assert len(user) == 1 and user[0].parent is not None and pack.context is not None
    assert user[0].parent.span_id == pack.context.span_id
    ships = sorted(
        (span for span in spans if span.name == "step ship"),
        key=lambda span: int(str((span.attributes or {})["stepwise.step.attempt"])),
    )
    first, second = ((span.attributes or {}) for span in ships)
    assert first["stepwise.step.outcome"] == "retrying"
    assert 0 < int(str(first["stepwise.step.retry_delay_ms"])) <= 250
    assert ships[0].status.status_code == StatusCode.ERROR
    assert [event.name for event in ships[0].events] == ["exception"]
    assert (ships[0].events[0].attributes or {})["exception.message"] == "the truck is late"
    assert second["stepwise.step.outcome"] == "completed"


async def _registered(client: Client) -> None:
    for _ in range(400):
        if "workflow//traced.workflows//traced_order" in await client.protocol.workflows_list():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the Python worker never registered traced_order")


async def test_a_python_step_joins_the_trace_of_a_typescript_start(worker, ts_project: Path, stepwise_server: StepwiseServer, client: Client) -> None:  # type: ignore[no-untyped-def]
    await _registered(client)
    env = {**os.environ, **stepwise_server.env, "STEPWISE_WORKER": "0"}
    done = await asyncio.to_thread(
        subprocess.run, ["node", "client.mjs", "box"], cwd=ts_project, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["result"] == ["packed box", "shipped box"]
    run_id = str(answer["runId"])
    # TypeScript recorded its start span with the run, in the caller's trace.
    [created, *_] = await client.protocol.events_list(run_id)
    parsed = parse_traceparent(created.data.get("traceparent"))
    assert parsed is not None
    trace_id, start_span_id, flags = parsed
    assert trace_id == answer["traceId"] and flags == 1
    await _check_run(client, run_id, int(trace_id, 16), int(start_span_id, 16))


async def test_a_python_start_records_its_span_and_the_steps_nest_under_it(worker, client: Client) -> None:  # type: ignore[no-untyped-def]
    with trace.get_tracer("py-app").start_as_current_span("py caller") as caller:
        run = await client.start(traced_order, [{"item": "crate"}])
    assert await run.return_value(timeout=30) == ["packed crate", "shipped crate"]
    start = next(span for span in _run_spans(run.run_id) if span.name == "start traced_order")
    assert start.context is not None and start.parent is not None
    assert start.parent.span_id == caller.get_span_context().span_id
    assert start.context.trace_id == caller.get_span_context().trace_id
    [created, *_] = await client.protocol.events_list(run.run_id)
    assert created.data.get("traceparent") == (
        f"00-{start.context.trace_id:032x}-{start.context.span_id:016x}-{int(start.context.trace_flags):02x}"
    )
    await _check_run(client, run.run_id, start.context.trace_id, start.context.span_id)


def test_the_derived_root_is_the_one_typescript_derives() -> None:
    script = (
        "import { derivedTraceparent } from './dist/runtime/tracing.js';"
        "console.log(derivedTraceparent('wrun_01JZ0000000000000000000000', 1767225600000));"
    )
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert derived_traceparent("wrun_01JZ0000000000000000000000", 1767225600000) == done.stdout.strip()
