"""Seed 003 (Cloudflare's Python Workflows) on the Stepwise engine, against a real server with a
Python worker: steps, sleeps, events (received, buffered, timed out), DAGs, retries and
NonRetryableError, and instance control (status, pause, resume, restart, terminate)."""

from __future__ import annotations

import asyncio

import pytest
from engine_fixtures import client_of, start_worker, use_app
from server import StepwiseServer

use_app("seed003")

from cfapp.workflows import ATTEMPTS, RAN, Diamond, Flaky, MyWorkflow, Sleeper, Waiter  # noqa: E402


@pytest.fixture
async def client(stepwise_server: StepwiseServer):  # type: ignore[no-untyped-def]
    async for made in client_of(stepwise_server):
        yield made


@pytest.fixture
async def worker(stepwise_server: StepwiseServer, client):  # type: ignore[no-untyped-def]
    running = await start_worker(stepwise_server)
    yield running
    await running.stop()


async def until(check, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_a_step_a_sleep_and_an_event_sent_before_the_wait(worker) -> None:  # type: ignore[no-untyped-def]
    RAN.clear()
    instance = await MyWorkflow.create(params={"name": "ada"})
    # Sent while the run sleeps: kept, and taken by the wait when it comes.
    await instance.send_event(type="approval", payload={"ok": True})
    result = await instance.run.return_value(timeout=20)
    assert result == {
        "first": {"hello": "ada", "instance": instance.id},
        "approval": {"ok": True},
        "workflow": "MyWorkflow",
    }
    assert RAN == ["first"]
    status = await instance.status()
    assert status == {"status": "complete", "output": result}


async def test_a_diamond_runs_each_step_once_and_passes_results(worker, client) -> None:  # type: ignore[no-untyped-def]
    RAN.clear()
    instance = await Diamond.create()
    result = await instance.run.return_value(timeout=20)
    assert result == {"b": 11, "c": 101, "attempt": 1, "name": "final"}
    assert sorted(RAN) == ["a", "b", "c", "final"]
    assert RAN[0] == "a" and RAN[-1] == "final"
    events = await client.protocol.events_list(instance.id)
    started = [event.data["stepName"] for event in events if event.type == "step_started"]
    assert started.count("dep_a") == 1 and len(started) == 4


async def test_retries_follow_the_config_and_non_retryable_fails_at_once(worker) -> None:  # type: ignore[no-untyped-def]
    ATTEMPTS.clear()
    instance = await Flaky.create()
    result = await instance.run.return_value(timeout=20)
    assert result == {"attempts": 3, "caught": "the card was declined"}
    assert ATTEMPTS == {"flaky": 3, "doomed": 1}


async def test_an_event_received_while_waiting(worker) -> None:  # type: ignore[no-untyped-def]
    instance = await Waiter.create(params={"timeout": "1 minute"})

    async def waiting() -> bool:
        return (await instance.status())["status"] == "waiting"

    await until(waiting)
    await instance.send_event(type="go", payload=[1, 2, 3])
    assert await instance.run.return_value(timeout=20) == {"payload": [1, 2, 3], "type": "go"}


async def test_a_wait_that_times_out(worker) -> None:  # type: ignore[no-untyped-def]
    instance = await Waiter.create(params={"timeout": 1})
    result = await instance.run.return_value(timeout=20)
    assert isinstance(result, dict) and result["timed_out"].startswith('step.wait_for_event("wait", "go") tim')


async def test_pause_resume_restart_and_terminate(worker) -> None:  # type: ignore[no-untyped-def]
    RAN.clear()
    instance = await Sleeper.create(id="sleeper-1", params={"nap": 2})

    async def sleeping() -> bool:
        return "before" in RAN and (await instance.status())["status"] == "waiting"

    await until(sleeping)
    await instance.pause()
    assert (await instance.status())["status"] == "paused"
    await asyncio.sleep(2.5)  # the nap ends while paused: nothing runs until the resume
    assert RAN == ["before"]
    await instance.resume()
    assert await instance.run.return_value(timeout=20) == "a"
    assert RAN == ["before", "after"]

    await instance.restart()
    assert await instance.run.return_value(timeout=20) == "a"
    assert RAN == ["before", "after", "before", "after"]

    again = await Sleeper.create(id="sleeper-2", params={"nap": 60})
    await until(lambda: _status_is(again, "waiting"))
    await again.terminate()
    assert (await again.status())["status"] == "terminated"
    assert (await Sleeper.get("sleeper-2")).id == "sleeper-2"


async def _status_is(instance, status: str) -> bool:  # type: ignore[no-untyped-def]
    return (await instance.status())["status"] == status


async def test_create_batch_and_an_id_used_twice(worker) -> None:  # type: ignore[no-untyped-def]
    RAN.clear()
    batch = await Diamond.create_batch([{"id": "diamond-b1"}, {"id": "diamond-b2", "params": {}}])
    assert [instance.id for instance in batch] == ["diamond-b1", "diamond-b2"]
    for instance in batch:
        assert (await instance.run.return_value(timeout=20))["b"] == 11
    same = await Diamond.create(id="diamond-b1")
    assert same.id == "diamond-b1" and (await same.status())["status"] == "complete"
