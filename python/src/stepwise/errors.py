"""The exceptions the Stepwise Python SDK raises, and those workflow and step code raise to steer it.

Every one derives from `StepwiseError`, has a stable `code` (the same as the TypeScript SDK's for
the same error, so an error recorded by one language is recognised by the other) and a message
that says what happened and what to do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ._base import StepwiseError as StepwiseError
from ._serde.error_values import ErrorShape, register_error_reviver


class FatalError(StepwiseError):
    """Raised from a step: fail it now, without retrying (the workflow receives this error)."""

    code = "FATAL"


class NonRetryableError(FatalError):
    """Cloudflare's name for `FatalError`: the step fails at once, with no further attempt."""


#: When to try again: seconds, a `timedelta`, a duration string ("30s", "5 minutes") or a `datetime`.
RetryAfter = float | int | timedelta | str | datetime


class RetryableError(StepwiseError):
    """Raised from a step: try again, after `retry_after` when given (else the step's backoff)."""

    code = "RETRYABLE"

    def __init__(self, message: str, *, retry_after: RetryAfter | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WaitTimeoutError(StepwiseError):
    """A wait for an event (`wait_for_event`) reached its timeout without one."""

    code = "WAIT_TIMEOUT"


def _message(shape: ErrorShape) -> str:
    message = shape.get("message")
    return message if isinstance(message, str) else ""


def _revive_fatal(shape: ErrorShape) -> BaseException:
    return NonRetryableError(_message(shape)) if shape.get("name") == "NonRetryableError" else FatalError(
        _message(shape)
    )


def _revive_retryable(shape: ErrorShape) -> BaseException:
    after = shape.get("retryAfter")
    retry_after: RetryAfter | None = None
    if isinstance(after, int | float) and not isinstance(after, bool):
        retry_after = after / 1000  # stored in milliseconds (docs/payloads.md)
    elif isinstance(after, str | datetime):
        retry_after = after
    return RetryableError(_message(shape), retry_after=retry_after)


register_error_reviver(FatalError.code, _revive_fatal)
register_error_reviver(RetryableError.code, _revive_retryable)
register_error_reviver(WaitTimeoutError.code, lambda shape: WaitTimeoutError(_message(shape)))
