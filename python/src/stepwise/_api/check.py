"""A static look at workflow code when it is declared: calls that a replay could not repeat are
refused at import time, with the file, the line and the durable alternative — before any run.

What is refused is what the run-time guards (`_engine/guard.py`) cannot reach: the wall clock
through `datetime` (`datetime.now()`, `utcnow()`, `date.today()`), fresh randomness that bypasses
the `random` module (`uuid.uuid4()`, `os.urandom`, `secrets`), and blocking sleeps. The check reads
the function's own source (not what it calls: steps do the real work, and may do anything).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable

from .._base import StepwiseError

#: Dotted call names refused in workflow code, with the durable alternative.
REFUSED: dict[str, str] = {
    "datetime.now": "use workflow.now() (the run's clock), or read the time in a step",
    "datetime.utcnow": "use workflow.now() (the run's clock), or read the time in a step",
    "datetime.today": "use workflow.now() (the run's clock), or read the time in a step",
    "datetime.datetime.now": "use workflow.now() (the run's clock), or read the time in a step",
    "datetime.datetime.utcnow": "use workflow.now() (the run's clock), or read the time in a step",
    "date.today": "use workflow.now().date(), or read the date in a step",
    "datetime.date.today": "use workflow.now().date(), or read the date in a step",
    "uuid.uuid1": "make ids in a step, or derive them from the run (workflow.random())",
    "uuid.uuid4": "make ids in a step, or derive them from the run (workflow.random())",
    "uuid4": "make ids in a step, or derive them from the run (workflow.random())",
    "os.urandom": "use workflow.random(), or draw the bytes in a step",
    "secrets.token_hex": "draw secrets in a step (their value is recorded once)",
    "secrets.token_bytes": "draw secrets in a step (their value is recorded once)",
    "secrets.token_urlsafe": "draw secrets in a step (their value is recorded once)",
    "time.sleep": "use `await workflow.sleep(...)`, which is durable and costs nothing while it waits",
    "time.monotonic": "use workflow.now(), the run's clock",
    "time.perf_counter": "use workflow.now(), the run's clock",
}


class WorkflowCodeError(StepwiseError):
    """Workflow code calls something a replay could not repeat (found when it is declared)."""

    code = "WORKFLOW_CODE"


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def _is_step_declaration(node: ast.AST) -> bool:
    """A nested function declared as a Cloudflare step (`@step.do(...)`): its body runs as a step."""
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = _dotted(target)
        if name is not None and name.endswith(".do"):
            return True
    return False


def _own_nodes(tree: ast.AST) -> list[ast.AST]:
    """The nodes of the workflow's own code: every node but the bodies of nested steps."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        found.append(node)
        for child in ast.iter_child_nodes(node):
            if not _is_step_declaration(child):
                pending.append(child)
    return found


def check_workflow_source(function: Callable[..., object]) -> None:
    """Raises `WorkflowCodeError` at the first refused call in `function`'s own body."""
    try:
        lines, first = inspect.getsourcelines(function)
        file = inspect.getsourcefile(function) or "<unknown>"
    except (OSError, TypeError):
        return  # no source (a REPL, a frozen module): the run-time guards still apply
    try:
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except SyntaxError:
        return
    for node in _own_nodes(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name is not None and name in REFUSED:
                line = first + node.lineno - 1
                raise WorkflowCodeError(
                    f"{file}:{line}: workflow {function.__qualname__} calls {name}(), which gives "
                    f"another value on every replay: {REFUSED[name]}."
                )
