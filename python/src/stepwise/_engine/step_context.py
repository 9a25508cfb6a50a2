"""What a step's code can ask about the attempt running it (`workflow.get_step_metadata()`,
Cloudflare's `ctx`), held in a context variable that the executor sets for the attempt."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from datetime import datetime


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


current_step: contextvars.ContextVar[StepInfo | None] = contextvars.ContextVar("stepwise_step", default=None)
