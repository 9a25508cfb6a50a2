"""The workflows and steps this process has, and the version of their code.

A workflow's id is `workflow//<module>//<qualified name>` (the TypeScript SDK's ids are
`workflow//<file>//<name>`); what a person types — `ai_content_workflow`, or `MyWorkflow` — is
its last part. A step's id is `step//<module>//<qualified name>`, or for a Cloudflare step the name
given to `step.do`. The code version is a hash of the source of every module that defines a
registered workflow or step: runs are pinned to it when they start, and a worker is only handed
runs whose version it has (docs/python.md, "Versions").
"""

from __future__ import annotations

import hashlib
import inspect
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from .._engine.retry import StepPolicy
from ..errors import StepwiseError

#: Runs a workflow: given the run's arguments (the decoded list), returns its coroutine.
WorkflowEntry = Callable[[object], Coroutine[Any, Any, object]]


class RegistrationError(StepwiseError):
    """A workflow or step cannot be registered as declared."""

    code = "REGISTRATION"


@dataclass(slots=True)
class WorkflowDef:
    """A registered workflow."""

    id: str
    #: The short name people type (the function's or class's name).
    name: str
    module: str
    entry: WorkflowEntry
    #: "function" (Vercel style) or "entrypoint" (a WorkflowEntrypoint class).
    style: str
    #: Where it was declared, for messages.
    where: str = ""


@dataclass(slots=True)
class StepDef:
    """A registered step (Vercel style; Cloudflare steps are declared per run)."""

    id: str
    name: str
    module: str
    fn: Callable[..., object]
    policy: StepPolicy = field(default_factory=StepPolicy)


_workflows: dict[str, WorkflowDef] = {}
_steps: dict[str, StepDef] = {}
_modules: set[str] = set()
_version: str | None = None


def workflow_id(module: str, qualname: str) -> str:
    return f"workflow//{module}//{qualname}"


def step_id(module: str, qualname: str) -> str:
    return f"step//{module}//{qualname}"


def where_declared(obj: object) -> str:
    """`file:line` of a function or class, for messages."""
    try:
        file = inspect.getsourcefile(obj)  # type: ignore[arg-type]
        _, line = inspect.getsourcelines(obj)  # type: ignore[arg-type]
        return f"{file}:{line}"
    except (OSError, TypeError):
        return getattr(obj, "__qualname__", repr(obj))


def register_workflow(definition: WorkflowDef) -> None:
    """Adds a workflow; the same id twice from different code is refused."""
    global _version
    existing = _workflows.get(definition.id)
    if existing is not None and existing.where != definition.where:
        raise RegistrationError(
            f"Two workflows are registered as {definition.id}: at {existing.where} and at "
            f"{definition.where}. Give one of them another name."
        )
    _workflows[definition.id] = definition
    _modules.add(definition.module)
    _version = None


def register_step(definition: StepDef) -> None:
    """Adds a step; the same id twice from different code is refused."""
    global _version
    existing = _steps.get(definition.id)
    if existing is not None and existing.fn is not definition.fn and where_declared(existing.fn) != where_declared(definition.fn):
        raise RegistrationError(
            f"Two steps are registered as {definition.id}: at {where_declared(existing.fn)} and at "
            f"{where_declared(definition.fn)}. Give one of them another name."
        )
    _steps[definition.id] = definition
    _modules.add(definition.module)
    _version = None


def workflows() -> dict[str, WorkflowDef]:
    """Every registered workflow, by id."""
    return dict(_workflows)


def steps() -> dict[str, StepDef]:
    return dict(_steps)


def get_step(step_id_: str) -> StepDef | None:
    return _steps.get(step_id_)


def get_workflow(workflow: str) -> WorkflowDef | None:
    """A workflow by its id or its short name (when only one has that name)."""
    found = _workflows.get(workflow)
    if found is not None:
        return found
    named = [definition for definition in _workflows.values() if definition.name == workflow]
    return named[0] if len(named) == 1 else None


def code_version() -> str:
    """The version of this process's workflow code: `py-` and 24 hex digits of SHA-256 over each
    module (name and source) that defines a registered workflow or step, in name order."""
    global _version
    if _version is None:
        digest = hashlib.sha256()
        for name in sorted(_modules):
            module = sys.modules.get(name)
            try:
                source = inspect.getsource(module) if module is not None else ""
            except (OSError, TypeError):
                source = ""
            digest.update(name.encode())
            digest.update(b"\0")
            digest.update(source.encode())
            digest.update(b"\0")
        _version = "py-" + digest.hexdigest()[:24]
    return _version


def clear() -> None:
    """Forgets every registration (tests)."""
    global _version
    _workflows.clear()
    _steps.clear()
    _modules.clear()
    _version = None
