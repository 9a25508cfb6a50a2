"""Small helpers for the protocol tests: fresh ids and a run created through the protocol."""

from __future__ import annotations

import uuid

from payloads import payload

from stepwise._protocol import CreatedRun, CreateRunInput, ProtocolClient


def new_id(prefix: str) -> str:
    """A fresh id with the engine's prefix style (`wrun_…`, `hook_…`): tests share one server."""
    return f"{prefix}_{uuid.uuid4().hex}"


def run_input(
    workflow: str = "py_protocol_test", *, run_id: str | None = None, args: object = None
) -> CreateRunInput:
    """A run of `workflow` whose input is `args` (default `[]`) in the clear envelope."""
    return CreateRunInput(
        run_id=run_id or new_id("wrun"),
        workflow_name=workflow,
        spec_version=5,
        seed=uuid.uuid4().hex,
        encrypted=False,
        input=payload([] if args is None else args),
    )


async def create_run(
    client: ProtocolClient, workflow: str = "py_protocol_test", *, args: object = None
) -> CreatedRun:
    """Creates a fresh run of `workflow` through the protocol."""
    return await client.runs_create(run_input(workflow, args=args))
