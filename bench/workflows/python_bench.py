"""The benchmark workflow for Stepwise's Python worker (bench/engines/python.py imports this module;
`python -m stepwise worker bench/workflows/python_bench.py` runs it too): `sequential(n)` awaits
`n` no-op steps one after the other, the shape every engine of bench/python.mjs runs."""

from __future__ import annotations

from stepwise import workflow

wf = workflow.Workflows()


@wf.step
async def noop(i: int) -> int:
    """Does nothing: what is measured is the engine's cost around a step."""
    return i


@wf.workflow
async def sequential(n: int) -> int:
    """`n` sequential no-op steps."""
    last = 0
    for i in range(n):
        last = await noop(i)
    return last
