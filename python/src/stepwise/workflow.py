"""`from stepwise import workflow`: the Vercel Python style (seed 000), on the Stepwise engine.

    wf = workflow.Workflows()

    @wf.step
    async def generate_draft(*, topic: str) -> str: ...

    @wf.workflow
    async def ai_content_workflow(*, topic: str) -> dict:
        draft = await generate_draft(topic=topic)
        await workflow.sleep("7 days")
        return {"draft": draft}

    run = await workflow.start(ai_content_workflow, topic="x")
    print(await run.return_value())
"""

from ._api.client import Run, RunCancelledError, RunFailedError, WorkflowNotFoundError
from ._api.vercel import (
    BaseHook,
    HookEvents,
    HookPayloadError,
    Webhook,
    WebhookRequest,
    WorkflowCalledDirectlyError,
    Workflows,
    create_webhook,
    get_run,
    get_step_metadata,
    now,
    random,
    sleep,
    start,
    time_ns,
)
from ._api.streams import StreamWriter, get_writable
from ._engine.step_context import StepInfo
from .errors import FatalError, RetryableError

__all__ = [
    "BaseHook",
    "FatalError",
    "HookEvents",
    "HookPayloadError",
    "RetryableError",
    "Run",
    "RunCancelledError",
    "RunFailedError",
    "StepInfo",
    "WorkflowCalledDirectlyError",
    "WorkflowNotFoundError",
    "Webhook",
    "WebhookRequest",
    "Workflows",
    "create_webhook",
    "get_run",
    "get_step_metadata",
    "get_writable",
    "StreamWriter",
    "now",
    "random",
    "sleep",
    "start",
    "time_ns",
]
