"""The Python engine's log semantics, without I/O: a workflow runs live and records its calls; a
fresh machine replays the log to the same place, making no new events; a replay that calls
something else than the log recorded fails with a non-determinism error naming both sides."""

from __future__ import annotations

import asyncio

import pytest

from engine_harness import LogHarness
from stepwise._engine.errors import NonDeterminismError, WorkflowSandboxError
from stepwise._engine.ids import derived_id
from stepwise._engine.realm import current_realm
from stepwise._serde import parse, stringify


def realm():
    found = current_realm()
    assert found is not None
    return found


async def call(name: str, *args: object) -> object:
    return await realm().step(name, stringify(list(args)))


async def two_steps(args: object) -> object:
    assert isinstance(args, list)
    first = await call("step//tests//double", args[0])
    second = await call("step//tests//add", first, 1)
    return {"first": first, "second": second}


STEPS = {"step//tests//double": lambda x: x * 2, "step//tests//add": lambda a, b: a + b}


def test_a_live_run_records_each_call_and_its_outcome_and_finishes() -> None:
    harness = LogHarness(two_steps, [20])
    machine = harness.machine()
    assert harness.run_steps(machine, STEPS) == 2
    assert machine.settlement is not None and machine.settlement.ok
    assert parse(machine.settlement.text) == {"first": 40, "second": 41}
    assert harness.types() == [
        "run_created",
        "run_started",
        "step_started",
        "step_completed",
        "step_started",
        "step_completed",
    ]
    assert harness.log[1].data == {"bundleHash": "py-v1"}
    started = harness.log[2]
    assert started.data["stepId"] == derived_id("step", harness.run.seed, harness.run.created_at, 0)
    assert started.data["stepName"] == "step//tests//double"


def test_a_replay_reaches_the_same_place_without_new_events() -> None:
    harness = LogHarness(two_steps, [20])
    harness.run_steps(harness.machine(), {"step//tests//double": STEPS["step//tests//double"]} | {"step//tests//add": lambda a, b: a + b})
    replayed = harness.machine()
    assert replayed.take_outbox() == []
    assert replayed.settlement is not None and parse(replayed.settlement.text) == {"first": 40, "second": 41}


def test_a_replay_mid_run_resumes_the_interrupted_step() -> None:
    harness = LogHarness(two_steps, [3])
    machine = harness.machine()
    harness.commit(machine)
    # The first step started; its worker died before it finished.
    replayed = harness.machine()
    assert replayed.take_outbox() == []
    (task,) = replayed.steps.values()
    assert task.name == "step//tests//double" and task.interrupted and task.status == "queued"
    assert parse(task.args) == [3]


def test_a_replay_that_calls_another_step_fails_naming_both() -> None:
    harness = LogHarness(two_steps, [20])
    harness.run_steps(harness.machine(), STEPS)

    async def renamed(args: object) -> object:
        await call("step//tests//triple", 20)
        return None

    machine = harness.machine(renamed)
    assert isinstance(machine.fatal, NonDeterminismError)
    assert 'step "step//tests//double"' in str(machine.fatal)
    assert 'step "step//tests//triple"' in str(machine.fatal)
    assert machine.divergence is not None and machine.divergence.seq == 3


def test_a_replay_that_passes_other_arguments_fails_naming_both() -> None:
    harness = LogHarness(two_steps, [20])
    harness.run_steps(harness.machine(), STEPS)

    async def other_input(args: object) -> object:
        await call("step//tests//double", 21)
        return None

    machine = harness.machine(other_input)
    assert isinstance(machine.fatal, NonDeterminismError)
    assert "other arguments" in str(machine.fatal)
    assert "[20]" in str(machine.fatal) and "[21]" in str(machine.fatal)


def test_concurrent_calls_are_recorded_in_the_order_the_workflow_made_them() -> None:
    async def fan_out(args: object) -> object:
        results = await asyncio.gather(*(call("step//tests//double", n) for n in range(4)))
        return list(results)

    harness = LogHarness(fan_out, [])
    machine = harness.machine()
    harness.commit(machine)
    names = [(e.type, parse(harness.payloads.open(f"step:{e.data['stepId']}:args", e.payload))) for e in harness.log if e.type == "step_started" and e.payload]
    assert names == [("step_started", [n]) for n in range(4)]
    harness.run_steps(machine, STEPS)
    assert machine.settlement is not None and parse(machine.settlement.text) == [0, 2, 4, 6]
    assert harness.machine().take_outbox() == []


def test_time_and_random_come_from_the_run() -> None:
    import random
    import time

    async def clocked(args: object) -> object:
        before = time.time()
        draws = [random.random() for _ in range(3)]
        await call("step//tests//double", 1)
        return {"before": before, "after": time.time(), "draws": draws}

    harness = LogHarness(clocked, [])
    machine = harness.machine()
    harness.run_steps(machine, STEPS)
    assert machine.settlement is not None
    first = parse(machine.settlement.text)
    assert isinstance(first, dict)
    assert first["before"] == harness.run.created_at / 1000
    assert first["after"] == (harness.run.created_at + 5) / 1000
    replayed = harness.machine()
    assert replayed.settlement is not None and parse(replayed.settlement.text) == first
    # Outside workflow code the clock and random are the real ones again.
    assert abs(time.time() - harness.run.created_at / 1000) > 1


def test_timers_and_threads_in_workflow_code_are_refused_with_the_alternative() -> None:
    async def sleeps(args: object) -> object:
        await asyncio.sleep(1)
        return None

    harness = LogHarness(sleeps, [])
    machine = harness.machine()
    assert machine.settlement is not None and not machine.settlement.ok
    error = parse(machine.settlement.text)
    assert isinstance(error, Exception)
    assert "workflow.sleep" in str(error)

    import threading

    async def threads(args: object) -> object:
        threading.Thread(target=lambda: None).start()
        return None

    harness = LogHarness(threads, [])
    machine = harness.machine()
    assert machine.settlement is not None and not machine.settlement.ok
    assert "in a step" in str(parse(machine.settlement.text))
    with pytest.raises(WorkflowSandboxError):
        raise WorkflowSandboxError("types are exported")
