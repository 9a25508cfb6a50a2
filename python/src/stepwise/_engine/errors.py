"""The errors the engine raises into workflow code or about it."""

from __future__ import annotations

from .._base import StepwiseError


class WorkflowSandboxError(StepwiseError):
    """Workflow code did something a replay could not repeat (a timer, I/O, a thread)."""

    code = "WORKFLOW_SANDBOX"


class NonDeterminismError(StepwiseError):
    """A replay made other calls than the log recorded: the workflow's code or its inputs changed."""

    code = "NON_DETERMINISM"


class HookTokenInUseError(StepwiseError):
    """The workflow listened on a token that another active hook holds."""

    code = "HOOK_TOKEN_CONFLICT"

    def __init__(self, token: str, held_by_run_id: str | None) -> None:
        holder = "another run" if held_by_run_id is None else f"run {held_by_run_id}"
        super().__init__(
            f'The hook token "{token}" is held by an active hook of {holder}. A token listens in one '
            "place at a time: use a token unique to this run (include its id), or let the engine "
            "derive one."
        )
        self.token = token
        self.held_by_run_id = held_by_run_id


class RunTooLargeError(StepwiseError):
    """Storing a payload would take the run past its byte budget (STEPWISE_MAX_RUN_BYTES)."""

    code = "PAYLOAD_TOO_LARGE"


class InvalidDurationError(StepwiseError):
    """A duration or deadline that cannot be read."""

    code = "INVALID_DURATION"
