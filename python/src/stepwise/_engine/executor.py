"""Executes one attempt of a step: decodes its arguments, calls its body with the attempt's
context set, and reports the outcome as codec text with the retry decision
(src/runtime/executor.ts, in Python). A body that is a plain function runs in a thread, so a
blocking call does not stop the worker; an attempt over its policy's timeout fails with a
`StepTimeoutError` (retryable) and its body is cancelled. What the attempt prints comes with its
outcome (`StepOutcome.logs`, `output.py`)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._base import StepwiseError
from ..errors import FatalError
from .call_args import call_with
from .machine import RunInfo, StepTask
from .output import CapturedLogs, LogBuffer, current_output, install_capture
from .ports import ValueCodec
from .retry import RetryDecision, StepPolicy, decide_retry
from .step_context import StepAttempt, current_attempt


class StepTimeoutError(StepwiseError):
    """An attempt of a step ran longer than its timeout."""

    code = "STEP_TIMEOUT"


class StepNotRegisteredError(StepwiseError):
    """A step the run calls is not in this worker's code."""

    code = "STEP_NOT_REGISTERED"


Invoke = Callable[[Callable[..., object], list[object], StepAttempt], object]


def _invoke_plainly(fn: Callable[..., object], values: list[object], _attempt: StepAttempt) -> object:
    return call_with(fn, values)


@dataclass(slots=True, frozen=True)
class StepBody:
    """What executes a step: its function, its policy, and how its arguments reach it."""

    fn: Callable[..., object]
    policy: StepPolicy
    #: Calls `fn` with the decoded argument list (default: positional, a trailing dict as keywords).
    invoke: Invoke | None = None
    #: Whether `fn` is a coroutine function (awaited in the worker's loop; otherwise run in a
    #: thread): worked out once here, not on every attempt.
    asynchronous: bool = field(init=False)

    def __post_init__(self) -> None:
        fn = self.fn
        asynchronous = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))
        object.__setattr__(self, "asynchronous", asynchronous)


@dataclass(slots=True, frozen=True)
class StepOutcome:
    """`ok` with the result's text, or the error's text and what to do about it."""

    ok: bool
    text: str
    decision: RetryDecision | None = None
    #: What the attempt printed before its outcome was taken, if anything.
    logs: CapturedLogs | None = None


async def execute_step(
    run: RunInfo,
    step: StepTask,
    body: StepBody | None,
    codec: ValueCodec,
    now: Callable[[], int],
    extra: dict[str, object] | None = None,
) -> StepOutcome:
    """Runs attempt `step.attempt` of `step` (see the module docstring); the outcome carries what
    the attempt printed (`logs`)."""
    install_capture()
    output = LogBuffer(now)
    token = current_output.set(output)
    try:
        outcome = await _attempt(run, step, body, codec, now, extra)
    finally:
        current_output.reset(token)
    logs = output.take()
    if logs is None:
        return outcome
    return StepOutcome(outcome.ok, outcome.text, outcome.decision, logs)


async def _attempt(
    run: RunInfo,
    step: StepTask,
    body: StepBody | None,
    codec: ValueCodec,
    now: Callable[[], int],
    extra: dict[str, object] | None,
) -> StepOutcome:
    if body is None:
        error = StepNotRegisteredError(
            f"Step {step.name} is not in this worker's code. Start the worker with the module that "
            "defines it (python -m stepwise worker <module>)."
        )
        return StepOutcome(False, codec.error_text(error), RetryDecision(False, fatal=True))
    attempt = StepAttempt(
        run.run_id, run.workflow_name, run.created_at, run.version, step.id, step.name, step.attempt,
        now(), extra or {},
    )  # fmt: skip
    token = current_attempt.set(attempt)
    try:
        args = codec.parse(step.args)
        arguments = args if isinstance(args, list) else [args]
        invoke = body.invoke or _invoke_plainly
        timeout = None if body.policy.timeout_ms is None else body.policy.timeout_ms / 1000
        try:
            running = _run(invoke, body, arguments, attempt)
            # Without a timeout, no `wait_for` (it costs a coroutine and a timer per attempt).
            value = await (running if timeout is None else asyncio.wait_for(running, timeout))
        except asyncio.TimeoutError:
            timed_out = StepTimeoutError(
                f"Step {step.name} (attempt {step.attempt}) ran longer than its timeout of "
                f"{body.policy.timeout_ms} ms and was cancelled. Make the step faster, split it, or raise "
                "its timeout."
            )
            decision = decide_retry(body.policy, step.attempt, timed_out, now())
            return StepOutcome(False, codec.error_text(timed_out), decision)
        except Exception as failure:
            return StepOutcome(
                False, codec.error_text(failure), decide_retry(body.policy, step.attempt, failure, now())
            )
    finally:
        current_attempt.reset(token)
    try:
        text = codec.stringify(value)
    except Exception as failure:
        fatal = FatalError(f"Step {step.name} returned a value that cannot be stored: {failure}")
        return StepOutcome(False, codec.error_text(fatal), RetryDecision(False, fatal=True))
    return StepOutcome(True, text)


async def _run(invoke: Invoke, body: StepBody, arguments: list[object], attempt: StepAttempt) -> object:
    if body.asynchronous:
        result: Any = invoke(body.fn, arguments, attempt)
        return await result
    # A plain function may block: it runs in a thread, with the attempt's context.
    outcome = await asyncio.to_thread(invoke, body.fn, arguments, attempt)
    if inspect.isawaitable(outcome):
        return await outcome
    return outcome
