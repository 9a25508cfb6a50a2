"""Workflows for the step-logs tests: steps that print, write to stderr and log (at once, and over
retries), one that prints past the bound, and one in a plain function (a thread)."""

import asyncio
import logging
import sys

from stepwise import workflow

wf = workflow.Workflows()
log = logging.getLogger("logsapp")


@wf.step
async def talk(name: str) -> str:
    print("hello", name, {"n": 1})
    print("to stderr", file=sys.stderr)
    log.warning("careful with %s", name)
    return name


@wf.step
async def chatty(name: str) -> str:
    for k in range(4):
        print(f"{name} line {k}")
        await asyncio.sleep(0.002)
    return name


@wf.step(max_retries=4)
async def flaky() -> int:
    info = workflow.get_step_metadata()
    print(f"flaky attempt {info.attempt}")
    if info.attempt < 2:
        raise workflow.RetryableError("not yet", retry_after=0.01)
    return info.attempt


@wf.step
async def flood() -> int:
    for i in range(1500):
        print(f"flood line {i}")
    return 1500


@wf.step
def blocking(name: str) -> str:
    print(f"from a thread {name}")
    return name


@wf.workflow
async def logging_workflow(name: str):
    said = await talk(name)
    parts = await asyncio.gather(*(chatty(f"p{i}") for i in range(4)))
    attempts = await flaky()
    await flood()
    threaded = await blocking(name)
    return {"said": said, "parts": list(parts), "attempts": attempts, "threaded": threaded}


@wf.step
async def echo(name: str) -> str:
    return name


@wf.workflow
async def chatty_workflow(name: str):
    """Prints in its own body: before its first step, with logging, and after a sleep."""
    print(f"begins {name}")
    log.warning("body warns about %s", name)
    await echo(name)
    await workflow.sleep(0.5)
    print(f"after sleep {name}")
    return name
