"""What a step's code can ask about the attempt running it (`workflow.get_step_metadata()`,
Cloudflare's `ctx`), held in a context variable that the executor sets for the attempt.

The variable holds a `StepAttempt`, a few references made for every attempt; the public
`StepInfo` (with its two datetimes) is built from it the first time step code asks, since most
steps never do and every attempt would otherwise pay for it."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from datetime import datetime, timezone


@dataclass(slots=True, frozen=True)
class StepInfo:
    """The attempt of a step that is running: its run, the step, the attempt number (from 1)."""

    run_id: str
    workflow_name: str
    step_id: str
    step_name: str
    attempt: int
    #: When the attempt began.
    started_at: datetime
    #: When the run was created.
    workflow_started_at: datetime
    #: The version of the workflow code the run is pinned to.
    workflow_version: str
    #: Writes to the run's streams (set by the worker; `workflow.get_writable()` uses it).
    extra: dict[str, object] = field(default_factory=dict)


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


class StepAttempt:
    """The attempt the executor is running; `info()` is its `StepInfo`, made once when asked."""

    __slots__ = ("run_id", "workflow_name", "created_at", "version", "step_id", "step_name", "attempt",
                 "started_at", "extra", "_info")  # fmt: skip

    def __init__(
        self,
        run_id: str,
        workflow_name: str,
        created_at: int,
        version: str,
        step_id: str,
        step_name: str,
        attempt: int,
        started_at: int,
        extra: dict[str, object],
    ) -> None:
        self.run_id = run_id
        self.workflow_name = workflow_name
        #: When the run was created (epoch ms).
        self.created_at = created_at
        self.version = version
        self.step_id = step_id
        self.step_name = step_name
        self.attempt = attempt
        #: When the attempt began (epoch ms).
        self.started_at = started_at
        self.extra = extra
        self._info: StepInfo | None = None

    def info(self) -> StepInfo:
        """The public view of this attempt."""
        if self._info is None:
            self._info = StepInfo(
                run_id=self.run_id,
                workflow_name=self.workflow_name,
                step_id=self.step_id,
                step_name=self.step_name,
                attempt=self.attempt,
                started_at=_utc(self.started_at),
                workflow_started_at=_utc(self.created_at),
                workflow_version=self.version,
                extra=self.extra,
            )
        return self._info


current_attempt: contextvars.ContextVar[StepAttempt | None] = contextvars.ContextVar(
    "stepwise_step", default=None
)


def current_step() -> StepInfo | None:
    """The attempt running in this context, or None outside a step."""
    attempt = current_attempt.get()
    return None if attempt is None else attempt.info()
