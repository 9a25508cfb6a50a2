"""A run's machine and realm with an in-memory log, for unit tests of the engine's logic.

`LogHarness` plays the driver's part without I/O: it commits the machine's outbox into a list of
stored events (numbering them), executes steps by calling the given Python functions, and replays
the stored log into a fresh machine, as a worker that picks the run up after a crash does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from stepwise._engine.codec import BoundPayloads, SerdeValues
from stepwise._engine.events import StoredEvent
from stepwise._engine.machine import MachineOptions, RunInfo, RunMachine
from stepwise._engine.realm import Realm
from stepwise._serde import PayloadCodec, parse, stringify

Entry = Callable[[object], Coroutine[Any, Any, object]]


class LogHarness:
    def __init__(self, entry: Entry, args: list[object], *, run_id: str = "wrun_test", now: int = 1_700_000_000_000):
        self.entry = entry
        self.run = RunInfo(run_id, "workflow//tests//wf", now, "00112233445566778899aabbccddeeff", "py-v1")
        self.codec = PayloadCodec()
        self.payloads = BoundPayloads(self.codec, run_id, False, 5)
        self.clock = now
        input_text = stringify(args)
        self.log: list[StoredEvent] = [
            StoredEvent(
                1,
                "run_created",
                {"workflowName": self.run.workflow_name, "seed": self.run.seed, "specVersion": 5},
                self.payloads.seal("run:input", input_text, "input"),
                now,
            )
        ]
        self.input_text = input_text

    def machine(self, entry: Entry | None = None) -> RunMachine:
        """A fresh machine that replays the stored log (with `entry`, or the harness's workflow)."""
        workflow = entry or self.entry
        options = MachineOptions(
            run=RunInfo(**{f: getattr(self.run, f) for f in ("run_id", "workflow_name", "created_at", "seed", "version")}),
            payloads=self.payloads,
            codec=SerdeValues(),
            workflow=lambda host: Realm(
                host, SerdeValues(), seed=self.run.seed, created_at=self.run.created_at, entry=workflow
            ),
            input_text=self.input_text,
            payload_bytes=0,
            max_run_bytes=10_000_000,
            now=lambda: self.clock,
        )
        machine = RunMachine(options)
        machine.replay(list(self.log), self.clock)
        return machine

    def commit(self, machine: RunMachine) -> None:
        for event in machine.take_outbox():
            seq = len(self.log) + 1
            self.log.append(StoredEvent(seq, event.type, dict(event.data), event.payload, event.created_at or self.clock))
        machine.committed(len(self.log))

    def run_steps(self, machine: RunMachine, steps: dict[str, Callable[..., object]]) -> int:
        """Executes every queued step once (in call order) with `steps[name]`, committing after each."""
        ran = 0
        self.commit(machine)
        while True:
            queued = [task for task in machine.steps.values() if task.status == "queued"]
            if not queued or machine.finished:
                return ran
            task = queued[0]
            task.status = "running"
            args = parse(task.args)
            assert isinstance(args, list)
            self.clock += 5
            try:
                result = steps[task.name](*args)
                if asyncio.iscoroutine(result):
                    result = asyncio.run(result)
                machine.complete_step(task, stringify(result), self.clock)
            except Exception as error:
                machine.fail_step(task, SerdeValues().error_text(error), True, self.clock)
            ran += 1
            self.commit(machine)

    def types(self) -> list[str]:
        return [event.type for event in self.log]
