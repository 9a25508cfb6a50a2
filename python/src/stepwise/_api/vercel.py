"""The Vercel Python style (seed 000): `Workflows()` with `@wf.workflow` and `@wf.step`,
`workflow.sleep`, hooks as pydantic models (`BaseHook`), `start` and `get_run`.

A workflow is an `async def` taking its arguments by keyword (or position); the engine replays it
from its log, so it must only make durable calls: steps, `sleep`, hooks. A step is an `async def`
(or a plain function, run in a thread) that does the real work; inside a workflow, calling it
records the call and returns its result once a worker executed it, retried by its policy.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar, cast

from .._engine.call_args import bind_call, encode_call
from .._engine.durations import deadline_ms, duration_ms
from .._engine.realm import HookChannel, current_realm
from .._engine.retry import StepPolicy
from .._engine.step_context import StepInfo, current_step
from .._serde import stringify
from ..errors import StepwiseError
from .client import Run, default_client
from .registry import StepDef, WorkflowDef, register_step, register_workflow, step_id, where_declared, workflow_id
from .runtime import realm_for

H = TypeVar("H", bound="BaseHook")


class WorkflowCalledDirectlyError(StepwiseError):
    """A workflow function was called like a plain function instead of being started."""

    code = "WORKFLOW_CALLED_DIRECTLY"


class HookPayloadError(StepwiseError):
    """A hook payload does not fit the hook's model."""

    code = "HOOK_PAYLOAD_INVALID"


class Workflows:
    """The registry a module's workflows and steps are declared with (`wf = workflow.Workflows()`)."""

    def __init__(self, *, namespace: str | None = None) -> None:
        self.namespace = namespace

    def workflow(self, fn: Any = None, /, *, name: str | None = None) -> Any:
        """Declares an async function as a durable workflow (`@wf.workflow`)."""

        def declare(function: Callable[..., Coroutine[Any, Any, Any]]) -> Any:
            if not inspect.iscoroutinefunction(function):
                raise TypeError(
                    f"@wf.workflow needs an async function; {function.__qualname__} at "
                    f"{where_declared(function)} is not one (write `async def`)."
                )
            from .check import check_workflow_source

            check_workflow_source(function)
            ident = workflow_id(function.__module__, name or function.__qualname__)

            async def entry(args: object) -> object:
                values = args if isinstance(args, list) else [args]
                positional, keywords = bind_call(function, values)
                return await function(*positional, **keywords)

            register_workflow(
                WorkflowDef(
                    id=ident,
                    name=name or function.__name__,
                    module=function.__module__,
                    entry=entry,
                    style="function",
                    where=where_declared(function),
                )
            )

            @functools.wraps(function)
            def called(*args: object, **kwargs: object) -> Any:
                raise WorkflowCalledDirectlyError(
                    f"{function.__qualname__} is a workflow: start it with "
                    f"`await workflow.start({function.__name__}, ...)`, which runs it durably on a "
                    "worker, instead of calling it."
                )

            called.__stepwise_workflow__ = ident  # type: ignore[attr-defined]
            called.__stepwise_function__ = function  # type: ignore[attr-defined]
            return called

        return declare(fn) if fn is not None else declare

    def step(self, fn: Any = None, /, *, max_retries: int | None = None, name: str | None = None) -> Any:
        """Declares a step (`@wf.step`, `@wf.step(max_retries=3)`): retried, recorded once."""

        def declare(function: Callable[..., Any]) -> Any:
            if max_retries is not None and (not isinstance(max_retries, int) or max_retries < 0):
                raise ValueError(f"@wf.step(max_retries=...) takes a whole number >= 0, got {max_retries!r}")
            ident = step_id(function.__module__, name or function.__qualname__)
            policy = StepPolicy() if max_retries is None else StepPolicy(max_retries=max_retries)
            register_step(StepDef(ident, name or function.__name__, function.__module__, function, policy))

            @functools.wraps(function)
            def called(*args: object, **kwargs: object) -> Any:
                realm = current_realm()
                if realm is None:
                    # Outside a workflow (a test, another step): a plain call.
                    result = function(*args, **kwargs)
                    return result if inspect.isawaitable(result) else _done(result)
                text = stringify(encode_call(args, kwargs), root="arguments")
                return realm.step(ident, text)

            called.__stepwise_step__ = ident  # type: ignore[attr-defined]
            return called

        return declare(fn) if fn is not None else declare


async def _done(value: object) -> object:
    return value


# ---- workflow-time calls ---------------------------------------------------------------------------


async def sleep(duration: float | int | str | timedelta | datetime) -> None:
    """Sleeps durably: a number of seconds, a timedelta, a string ("7 days", "1h"), or until a
    datetime. The run costs nothing while it sleeps, and wakes on any worker."""
    realm = realm_for("workflow.sleep()")
    if isinstance(duration, datetime):
        resume_at = deadline_ms(duration, "workflow.sleep(until)")
    else:
        resume_at = realm.now_ms + duration_ms(duration, "workflow.sleep()")
    await realm.sleep_until(resume_at)


def now() -> datetime:
    """The run's clock inside a workflow (the time of the last outcome it received); the wall
    clock elsewhere."""
    realm = current_realm()
    if realm is None:
        return datetime.now(timezone.utc)
    return datetime.fromtimestamp(realm.now_ms / 1000, tz=timezone.utc)


def time_ns() -> int:
    """`now()` in nanoseconds since the epoch."""
    realm = current_realm()
    if realm is None:
        import time

        return time.time_ns()
    return realm.now_ms * 1_000_000


def random() -> float:
    """A random float in [0, 1): the run's seeded generator inside a workflow (the same on
    every replay), Python's elsewhere."""
    realm = current_realm()
    if realm is None:
        import random as _random

        return _random.random()
    return realm.random.random()


def get_step_metadata() -> StepInfo:
    """The attempt of the step that is running (its id, name, attempt from 1, run)."""
    info = current_step()
    if info is None:
        raise StepwiseError(
            "get_step_metadata() can only be called inside a step (a function decorated with "
            "@wf.step) while a worker executes it."
        )
    return info


# ---- hooks ----------------------------------------------------------------------------------------


class HookEvents(AsyncIterator[H]):
    """The payloads a hook receives, in order: iterate with `async for`, or `await` the first."""

    def __init__(self, cls: type[H], channel: HookChannel) -> None:
        self._cls = cls
        self.channel = channel

    @property
    def token(self) -> str:
        return self.channel.token

    def __aiter__(self) -> HookEvents[H]:
        return self

    async def __anext__(self) -> H:
        payload = await self.channel.next()
        return self._cls._stepwise_validate(payload, self.channel.token)

    def __await__(self) -> Generator[Any, None, H]:
        return self.__anext__().__await__()

    def dispose(self) -> None:
        """Stops listening: the token is free for another hook once this is recorded."""
        self.channel.dispose()


class BaseHook:
    """A hook's payload type. Subclass it with a pydantic model (or a dataclass):
    `class Approval(pydantic.BaseModel, workflow.BaseHook)`. Inside a workflow,
    `Approval.wait(token=…)` listens; from anywhere, `await approval.resume(token)` delivers."""

    @classmethod
    def wait(cls: type[H], *, token: str | None = None) -> HookEvents[H]:
        """Listens on `token` (or one derived from the run: read it from `.token`)."""
        realm = realm_for(f"{cls.__name__}.wait()")
        return HookEvents(cls, realm.hook(token))

    @classmethod
    def _stepwise_validate(cls: type[H], payload: object, token: str) -> H:
        validate = getattr(cls, "model_validate", None)
        try:
            if callable(validate):
                return cast(H, validate(payload))
            if isinstance(payload, dict):
                return cls(**payload)
            return cast(H, payload)
        except Exception as error:
            raise HookPayloadError(
                f'The payload for hook "{token}" does not fit {cls.__name__}: {error}. Resume the hook '
                f"with a {cls.__name__} (or data that validates as one)."
            ) from error

    def _stepwise_payload(self) -> object:
        dump = getattr(self, "model_dump", None)
        if callable(dump):
            return dump(mode="json")
        import dataclasses

        if dataclasses.is_dataclass(self) and not isinstance(self, type):
            return dataclasses.asdict(self)
        return dict(vars(self))

    async def resume(self, token: str) -> None:
        """Delivers this payload to the hook listening on `token` (HookNotFoundError if none)."""
        await default_client().resume_hook(token, self._stepwise_payload())


# ---- webhooks --------------------------------------------------------------------------------------


class WebhookRequest:
    """An HTTP request delivered to a webhook: method, URL, headers (lower-case names) and body."""

    def __init__(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body

    def text(self) -> str:
        return (self.body or b"").decode("utf-8")

    def json(self) -> object:
        import json

        return json.loads(self.text() or "null")

    def __repr__(self) -> str:
        return f"WebhookRequest({self.method} {self.url})"


def _request_of(payload: object) -> WebhookRequest:
    shape = payload if isinstance(payload, dict) else {}
    headers: dict[str, str] = {}
    raw = shape.get("headers")
    if isinstance(raw, list):
        for pair in raw:
            if isinstance(pair, list) and len(pair) == 2:
                headers[str(pair[0]).lower()] = str(pair[1])
    body = shape.get("body")
    return WebhookRequest(
        str(shape.get("method", "")),
        str(shape.get("url", "")),
        headers,
        bytes(body) if isinstance(body, bytes | bytearray) else None,
    )


class Webhook(AsyncIterator[WebhookRequest]):
    """A webhook the workflow listens on: `url` receives HTTP requests (answered 202), which
    arrive here in order; iterate with `async for`, or `await` the first."""

    def __init__(self, channel: HookChannel) -> None:
        self.channel = channel

    @property
    def token(self) -> str:
        return self.channel.token

    @property
    def url(self) -> str:
        return self.channel.url or ""

    def __aiter__(self) -> Webhook:
        return self

    async def __anext__(self) -> WebhookRequest:
        return _request_of(await self.channel.next())

    def __await__(self) -> Generator[Any, None, WebhookRequest]:
        return self.__anext__().__await__()

    def dispose(self) -> None:
        self.channel.dispose()


def create_webhook(*, token: str | None = None) -> Webhook:
    """Inside a workflow: a webhook whose URL (`STEPWISE_PUBLIC_URL` + `/webhooks/<token>`) any
    HTTP client can call, no secret needed; the token is derived from the run unless given."""
    return Webhook(realm_for("workflow.create_webhook()").hook(token, webhook=True))


# ---- the client side --------------------------------------------------------------------------------


async def start(workflow: object, *args: object, **kwargs: object) -> Run:
    """Starts a run of `workflow` (the decorated function, its name, or its full id) with these
    arguments, and returns its handle at once: `run = await start(wf_fn, topic="x")`."""
    return await default_client().start(workflow, encode_call(args, kwargs))


def get_run(run_id: str) -> Run:
    """A handle on an existing run."""
    return default_client().get_run(run_id)
