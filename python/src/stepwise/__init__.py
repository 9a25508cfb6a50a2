"""Stepwise for Python: durable workflows on the Stepwise engine.

Two styles, one engine (docs/python.md):

- Vercel's: `from stepwise import workflow`; `wf = workflow.Workflows()`, `@wf.workflow`,
  `@wf.step`, `workflow.sleep`, hooks as pydantic models (`workflow.BaseHook`), `workflow.start`.
- Cloudflare's: `class MyWorkflow(WorkflowEntrypoint)` with `async def run(self, event, step)`,
  `@step.do`, `step.sleep`, `step.sleep_until`, `step.wait_for_event`, `NonRetryableError`, and
  instances from the class (`await MyWorkflow.create(params=…)`).

Workers (`python -m stepwise worker app.workflows`) and clients talk to a Stepwise server
(`npx stepwise server`) named by STEPWISE_WORLD and STEPWISE_HTTP_SECRET, and share it with
TypeScript workflows: one engine, one database, one CLI.
"""

from . import workflow
from ._api.client import Client, Run, RunCancelledError, RunFailedError, WorkflowNotFoundError
from ._api.cloudflare import Instance, StepCallable, StepContext, WorkflowEntrypoint, WorkflowStep
from ._base import StepwiseError
from ._serde import (
    URL,
    UNDEFINED,
    ClassInstance,
    JSMap,
    PayloadDecryptionError,
    PayloadTooLargeError,
    RegExp,
    SerializationError,
    SerializedError,
    TypedArray,
    URLSearchParams,
)
from .errors import FatalError, NonRetryableError, RetryableError, WaitTimeoutError

__version__ = "0.1.0"

__all__ = [
    "URL",
    "UNDEFINED",
    "ClassInstance",
    "Client",
    "FatalError",
    "Instance",
    "JSMap",
    "NonRetryableError",
    "PayloadDecryptionError",
    "PayloadTooLargeError",
    "RegExp",
    "RetryableError",
    "Run",
    "RunCancelledError",
    "RunFailedError",
    "SerializationError",
    "SerializedError",
    "StepCallable",
    "StepContext",
    "StepwiseError",
    "TypedArray",
    "URLSearchParams",
    "WaitTimeoutError",
    "WorkflowEntrypoint",
    "WorkflowNotFoundError",
    "WorkflowStep",
    "__version__",
    "workflow",
]
