"""The base of every exception the SDK raises (re-exported as `stepwise.StepwiseError`). It lives
apart from `errors.py` so that the payload and protocol layers, which `errors.py` builds on, can
derive from it."""

from __future__ import annotations


class StepwiseError(Exception):
    """The base of every exception the SDK raises; `code` is stable across versions."""

    code: str = "STEPWISE_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
