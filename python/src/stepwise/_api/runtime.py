"""What workflow code calls at run time, whatever its style: the run's realm, checked to be there."""

from __future__ import annotations

from .._base import StepwiseError
from .._engine.realm import Realm, current_realm


class NotInWorkflowError(StepwiseError):
    """A workflow-only call (sleep, a hook's wait, …) made outside workflow code."""

    code = "NOT_IN_WORKFLOW"


def realm_for(what: str) -> Realm:
    """The running workflow's realm; `NotInWorkflowError` naming `what` outside one."""
    realm = current_realm()
    if realm is None:
        raise NotInWorkflowError(
            f"{what} can only be called inside a workflow function (one decorated with @wf.workflow, "
            "or a WorkflowEntrypoint's run method), while the engine runs it."
        )
    return realm
