"""A workflow for crash tests: each step appends its name to a journal file (so other processes
can count executions), then takes a moment, so a worker can be killed while one runs."""

import asyncio
from pathlib import Path

from stepwise import workflow

wf = workflow.Workflows()


@wf.step
async def record(journal: str, name: str, seconds: float) -> str:
    with Path(journal).open("a") as out:
        out.write(f"start {name}\n")
    await asyncio.sleep(seconds)
    with Path(journal).open("a") as out:
        out.write(f"done {name}\n")
    return name


@wf.workflow
async def journal_workflow(*, journal: str, steps: int, seconds: float):
    done = []
    for index in range(steps):
        done.append(await record(journal, f"s{index}", seconds))
    return done
