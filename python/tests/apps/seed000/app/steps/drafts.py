"""The steps the seed's refine and approval examples call without defining them."""

from app.workflow import wf

PUBLISHED: list[str] = []


@wf.step
async def fetch_draft(draft_id: str) -> str:
    return f"draft {draft_id}"


@wf.step
async def refine_draft(draft: str, notes: str | None = None) -> str:
    return f"{draft} (refined{': ' + notes if notes else ''})"


@wf.step
async def publish_draft(draft: str) -> None:
    PUBLISHED.append(draft)
