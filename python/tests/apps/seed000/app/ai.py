"""Stand-ins for the seed's AI calls (it leaves them to the reader): deterministic text, and a
record of every call so the tests can count them."""

CALLS: list[str] = []


async def ai_generate(*, prompt: str) -> str:
    CALLS.append(f"generate:{prompt}")
    return f"DRAFT[{prompt}]"


async def ai_summarize(*, text: str) -> str:
    CALLS.append(f"summarize:{text}")
    return f"SUMMARY[{text[:20]}]"
