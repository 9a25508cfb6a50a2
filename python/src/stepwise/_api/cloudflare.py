"""The Cloudflare Python style (seed 003): `class MyWorkflow(WorkflowEntrypoint)` with
`async def run(self, event, step)`, steps declared with `@step.do(...)`, `step.sleep`,
`step.sleep_until`, `step.wait_for_event`, and instances created and controlled from the class.

`@step.do(name=None, *, depends=None, concurrent=False, config=None)` returns a callable: calling
it runs the step (once per run, however many steps depend on it; awaiting it again gives the same
result). Its dependencies are the steps named by `depends` and the earlier-declared steps whose
function names are among its parameters; each dependency's result is passed to it (by parameter
name, or in `depends` order), and a parameter named `ctx` receives the step context (`attempt`,
`step.name`, `step.count`, `config`). With `concurrent=True` the dependencies run together.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from .._engine.durations import deadline_ms, duration_ms
from .._engine.executor import StepBody
from .._engine.realm import Realm
from .._engine.retry import StepPolicy, policy_from_config
from .._engine.step_context import StepAttempt
from .._serde import stringify
from ..errors import WaitTimeoutError
from .check import check_workflow_source
from .client import Run, default_client
from .registry import WorkflowDef, register_workflow, where_declared, workflow_id
from .runtime import realm_for


class StepContext:
    """What a step receives as `ctx`: the attempt (from 1), the step's name and how many times a
    step of that name was called in the run so far (from 1), and its resolved config."""

    def __init__(self, attempt: int, name: str, count: int, config: Mapping[str, object]) -> None:
        self.attempt = attempt
        self.step = {"name": name, "count": count}
        self.config = dict(config)

    def __getitem__(self, key: str) -> object:
        return getattr(self, key)

    def __repr__(self) -> str:
        return f"StepContext(attempt={self.attempt}, step={self.step!r})"


def _resolved_config(policy: StepPolicy) -> dict[str, object]:
    config: dict[str, object] = {
        "retries": {"limit": policy.max_retries, "delay": policy.delay_ms, "backoff": policy.backoff}
    }
    if policy.timeout_ms is not None:
        config["timeout"] = policy.timeout_ms
    return config


class StepCallable:
    """A declared step of one run: call (and await) it to run it; its result is kept for the run."""

    def __init__(
        self,
        owner: WorkflowStep,
        fn: Callable[..., Any],
        name: str,
        depends: Sequence[StepCallable],
        concurrent: bool,
        policy: StepPolicy,
    ) -> None:
        self._owner = owner
        self.fn = fn
        self.name = name
        self.depends = list(depends)
        self.concurrent = concurrent
        self.policy = policy
        self._task: asyncio.Task[object] | None = None
        parameters = inspect.signature(fn).parameters
        #: Earlier steps named by the function's parameters, with the parameter they fill.
        self._by_name: list[tuple[str, StepCallable]] = [
            (param, owner.declared[param]) for param in parameters if param != "ctx" and param in owner.declared
        ]
        implicit = {id(step) for _, step in self._by_name}
        self._positional = [step for step in self.depends if id(step) not in implicit]
        self._takes_ctx = "ctx" in parameters
        unfilled = [
            param
            for param, spec in parameters.items()
            if param != "ctx"
            and param not in owner.declared
            and spec.default is inspect.Parameter.empty
            and spec.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        ]
        if len(unfilled) > len(self._positional):
            raise TypeError(
                f'step.do("{name}"): {fn.__qualname__} takes {", ".join(unfilled)}, which no step fills. A '
                "step's parameters are `ctx`, the names of steps declared before it (their results), "
                "or filled in order by `depends=[...]`."
            )

    def __call__(self) -> Coroutine[Any, Any, object]:
        return self._result()

    async def _result(self) -> object:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return await self._task

    async def _run(self) -> object:
        dependencies = [step for _, step in self._by_name] + self._positional
        if self.concurrent:
            results = list(await asyncio.gather(*(step() for step in dependencies)))
        else:
            results = [await step() for step in dependencies]
        realm = self._owner.realm
        count = self._owner.count(self.name)
        named = [param for param, _ in self._by_name]
        by_name = dict(zip(named, results[: len(named)], strict=True))
        positional = results[len(named) :]
        takes_ctx = self._takes_ctx
        policy = self.policy

        def invoke(fn: Callable[..., object], values: list[object], attempt: StepAttempt) -> object:
            args = values[0] if values and isinstance(values[0], dict) else {}
            rest = values[1] if len(values) > 1 and isinstance(values[1], list) else []
            kwargs: dict[str, object] = dict(args)
            if takes_ctx:
                kwargs["ctx"] = StepContext(attempt.attempt, attempt.step_name, count, _resolved_config(policy))
            return fn(*rest, **kwargs)

        realm.step_bodies[self.name] = StepBody(self.fn, self.policy, invoke)
        return await realm.step(self.name, stringify([by_name, positional], root="the step's inputs"))


class WorkflowStep:
    """The `step` a workflow's `run` receives: declares steps and makes durable waits."""

    def __init__(self, realm: Realm) -> None:
        self.realm = realm
        #: Steps declared so far in this run, by function name (for dependencies by parameter name).
        self.declared: dict[str, StepCallable] = {}
        self._counts: dict[str, int] = {}

    def count(self, name: str) -> int:
        self._counts[name] = self._counts.get(name, 0) + 1
        return self._counts[name]

    def do(
        self,
        name: str | None = None,
        *,
        depends: Sequence[StepCallable] | None = None,
        concurrent: bool = False,
        config: Mapping[str, object] | None = None,
    ) -> Callable[[Callable[..., Any]], StepCallable]:
        """Declares a step (see the module docstring); the decorator returns its callable."""

        def declare(fn: Callable[..., Any]) -> StepCallable:
            step_name = name or fn.__name__
            for dependency in depends or ():
                if not isinstance(dependency, StepCallable):
                    raise TypeError(
                        f'step.do("{step_name}", depends=[...]) takes steps declared with @step.do, got '
                        f"{dependency!r}"
                    )
            policy = policy_from_config(dict(config) if config is not None else None, f'step.do("{step_name}")')
            callable_ = StepCallable(self, fn, step_name, depends or (), concurrent, policy)
            self.declared[fn.__name__] = callable_
            return callable_

        return declare

    async def sleep(self, name: str, duration: float | int | str) -> None:
        """Sleeps durably for `duration`: seconds, or a string such as "10 seconds" or "2 days"."""
        await self.realm.sleep_until(self.realm.now_ms + duration_ms(duration, f'step.sleep("{name}")'))

    async def sleep_until(self, name: str, timestamp: datetime | float | int) -> None:
        """Sleeps durably until `timestamp`: a datetime, or seconds since the Unix epoch."""
        await self.realm.sleep_until(deadline_ms(timestamp, f'step.sleep_until("{name}")'))

    async def wait_for_event(self, name: str, event_type: str, timeout: float | int | str = "24 hours") -> dict[str, object]:
        """Waits for an event of `event_type` sent to the instance (`instance.send_event(type=…)`),
        taking one sent before the wait too; `WaitTimeoutError` when none comes within `timeout`.
        Returns `{"payload", "timestamp", "type"}`."""
        limit = duration_ms(timeout, f'step.wait_for_event("{name}", timeout=...)')
        timeout_at = self.realm.now_ms + limit

        def timed_out() -> BaseException:
            return WaitTimeoutError(
                f'step.wait_for_event("{name}", "{event_type}") timed out after {timeout} without an '
                f'event of that type. Catch WaitTimeoutError to go on without it, give the wait a longer '
                f'timeout, or send the event sooner (instance.send_event(type="{event_type}", payload=...)).'
            )

        received = await self.realm.wait_for_event(event_type, timeout_at, timed_out)
        return {
            "payload": received.payload,
            "timestamp": datetime.fromtimestamp(received.sent_at / 1000, tz=timezone.utc),
            "type": event_type,
        }


class Instance:
    """A workflow instance (a run), as Cloudflare's binding returns it."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.id = run.run_id

    def __repr__(self) -> str:
        return f"Instance({self.id!r})"

    async def status(self) -> dict[str, object]:
        """`{"status": …, "output"?: …, "error"?: {"name", "message"}}` in Cloudflare's terms:
        queued, running, waiting, waitingForPause, paused, complete, errored, terminated."""
        record = await self.run.record()
        status = {
            "pending": "queued",
            "running": "running",
            "pausing": "waitingForPause",
            "paused": "paused",
            "completed": "complete",
            "failed": "errored",
            "cancelled": "terminated",
        }.get(record.status, "unknown")
        if status == "running" and record.lease is None:
            waits = await self.run.client.protocol.waits_list(run_id=self.id, status="waiting")
            if waits:
                status = "waiting"
        answer: dict[str, object] = {"status": status}
        if record.status == "completed":
            answer["output"] = await self.run.return_value()
        elif record.status == "failed":
            try:
                await self.run.return_value()
            except Exception as error:
                cause = error.__cause__ or error
                answer["error"] = {"name": type(cause).__name__, "message": str(cause)}
        return answer

    async def pause(self) -> None:
        await self.run.pause()

    async def resume(self) -> None:
        await self.run.resume()

    async def terminate(self) -> None:
        await self.run.cancel()

    async def restart(self) -> None:
        await self.run.restart()

    async def send_event(self, *, type: str, payload: object = None) -> None:
        """Sends an event to the instance: its next `step.wait_for_event` of that type takes it."""
        await self.run.send_event(type, payload)


class WorkflowEntrypoint:
    """Subclass it and write `async def run(self, event, step)`; the subclass is registered as a
    workflow named after the class. `event` is a dict: `payload` (the instance's params),
    `timestamp` (when it was created), `instanceId`, `workflowName`."""

    def __init__(self, ctx: object = None, env: object = None) -> None:
        self.ctx = ctx
        self.env = env

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        run = cls.__dict__.get("run")
        if run is None:
            return
        if not inspect.iscoroutinefunction(run):
            raise TypeError(f"{cls.__qualname__}.run at {where_declared(run)} must be `async def run(self, event, step)`.")
        check_workflow_source(run)
        ident = workflow_id(cls.__module__, cls.__qualname__)

        async def entry(args: object) -> object:
            realm = realm_for(f"{cls.__name__}.run")
            values = args if isinstance(args, list) else [args]
            payload = values[0] if values else None
            info = realm.run
            event = {
                "payload": payload,
                "timestamp": datetime.fromtimestamp(getattr(info, "created_at", 0) / 1000, tz=timezone.utc),
                "instanceId": getattr(info, "run_id", ""),
                "workflowName": cls.__name__,
            }
            return await cls().run(event, WorkflowStep(realm))

        register_workflow(
            WorkflowDef(id=ident, name=cls.__name__, module=cls.__module__, entry=entry, style="entrypoint", where=where_declared(cls))
        )
        cls.__stepwise_workflow__ = ident  # type: ignore[attr-defined]

    async def run(self, event: dict[str, object], step: WorkflowStep) -> object:
        raise NotImplementedError(f"{type(self).__name__} must define `async def run(self, event, step)`.")

    # ---- instances ---------------------------------------------------------------------------------

    @classmethod
    async def create(cls, *, id: str | None = None, params: object = None) -> Instance:
        """Creates an instance (a run) with `params` as `event["payload"]`; an `id` already used by
        this workflow returns that instance."""
        return Instance(await default_client().start(cls, [params], id=id))

    @classmethod
    async def create_batch(cls, items: Sequence[Mapping[str, object]]) -> list[Instance]:
        """Creates instances `[{"id"?: …, "params"?: …}, …]` in one transaction, all or nothing."""
        batch: list[tuple[Sequence[object], str | None]] = []
        for item in items:
            ident = item.get("id")
            batch.append(([item.get("params")], ident if isinstance(ident, str) else None))
        return [Instance(run) for run in await default_client().start_many(cls, batch)]

    @classmethod
    async def get(cls, id: str) -> Instance:
        """The instance with that id (RunNotFoundError if there is none)."""
        run = default_client().get_run(id)
        await run.record()
        return Instance(run)
