"""The exceptions the Stepwise Python SDK raises. Every one says what happened and what to do."""

from __future__ import annotations


class StepwiseError(Exception):
    """The base of every exception the SDK raises; `code` is stable across versions."""

    code: str = "STEPWISE_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
