"""A Python workflow whose steps are traced (tests/test_tracing.py): a step that makes a span of
the user's own, one that fails its first attempt and is retried, and a sleep."""

from opentelemetry import trace

from stepwise import workflow
from stepwise.errors import RetryableError

wf = workflow.Workflows()


@wf.step
async def pack(item: str) -> str:
    # The user's own span: it must nest under the attempt's span.
    with trace.get_tracer("user-code").start_as_current_span("user work"):
        return f"packed {item}"


@wf.step
async def ship(item: str) -> str:
    if workflow.get_step_metadata().attempt == 1:
        raise RetryableError("the truck is late", retry_after=0.25)
    return f"shipped {item}"


@wf.workflow
async def traced_order(*, item: str):
    packed = await pack(item)
    shipped = await ship(item)
    await workflow.sleep(0.05)
    return [packed, shipped]
