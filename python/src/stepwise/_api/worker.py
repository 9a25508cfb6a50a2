"""Running a Python worker: the registered workflows as the engine's run definitions, and
`run_worker`, which `python -m stepwise worker <modules>` calls."""

from __future__ import annotations

import asyncio
import importlib
import signal
import sys
from collections.abc import Callable, Sequence

from .._engine.codec import SerdeValues
from .._engine.executor import StepBody
from .._engine.machine import RunMachine
from .._engine.realm import Realm
from .._engine.worker import RunDefinition, Worker, WorkerOptions
from .._protocol import ProtocolClient
from .registry import WorkflowDef, code_version, get_step, workflows


def _definition(workflow: WorkflowDef) -> RunDefinition:
    def realm(machine: RunMachine) -> Realm:
        return Realm(
            machine, SerdeValues(), seed=machine.run.seed, created_at=machine.run.created_at, entry=workflow.entry
        )

    def step_bodies(realm_: object) -> Callable[[str], StepBody | None]:
        bodies = getattr(realm_, "step_bodies", None)
        if not isinstance(bodies, dict):
            return lambda _name: None

        def body(name: str) -> StepBody | None:
            found = bodies.get(name)
            return found if isinstance(found, StepBody) else None

        return body

    return RunDefinition(workflow.id, realm, step_bodies)


#: The bodies made so far, with the declaration each was made from (a step declared again gets a new one).
_bodies: dict[str, tuple[object, StepBody]] = {}


def registered_step_body(name: str) -> StepBody | None:
    """The body of a registered (Vercel-style) step (the driver asks several times per attempt)."""
    step = get_step(name)
    if step is None:
        return None
    made = _bodies.get(name)
    if made is not None and made[0] is step:
        return made[1]
    body = StepBody(step.fn, step.policy)
    _bodies[name] = (step, body)
    return body


def make_worker(client: ProtocolClient, options: WorkerOptions | None = None) -> Worker:
    """A worker for every workflow registered in this process."""
    definitions = {workflow.id: _definition(workflow) for workflow in workflows().values()}
    return Worker(client, definitions, code_version(), registered_step_body, options=options)


def import_modules(modules: Sequence[str]) -> None:
    """Imports the modules that declare workflows (`app.workflows`, or a file path `app/x.py`)."""
    import os

    sys.path.insert(0, os.getcwd())
    for module in modules:
        name = module[:-3].replace("/", ".") if module.endswith(".py") else module
        importlib.import_module(name)


async def run_worker(modules: Sequence[str], options: WorkerOptions | None = None) -> None:
    """Imports `modules`, registers their workflows with the server and runs until SIGINT/SIGTERM."""
    import_modules(modules)
    found = workflows()
    if not found:
        raise SystemExit(
            f"stepwise worker: no workflow is declared in {', '.join(modules)}. Decorate one with "
            "@wf.workflow, or subclass WorkflowEntrypoint, in the modules you name."
        )
    from .devserver import server_settings

    url, secret = server_settings()
    async with ProtocolClient(url, secret) as client:
        worker = make_worker(client, options)
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        names = ", ".join(sorted(workflow.name for workflow in found.values()))
        print(
            f"stepwise worker (python) on {client.server.url}: {len(found)} workflow(s) ({names}), "
            f"version {code_version()}",
            flush=True,
        )
        running = asyncio.create_task(worker.run())
        stop_waiter = asyncio.create_task(stopping.wait())
        done, _ = await asyncio.wait({running, stop_waiter}, return_when=asyncio.FIRST_COMPLETED)
        if stop_waiter in done:
            await worker.stop()
        else:
            stop_waiter.cancel()
        await running
