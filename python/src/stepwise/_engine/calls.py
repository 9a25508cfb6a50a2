"""What workflow code asks the engine for (commands), what the engine answers at once (receipts),
and the outcomes it hands back later (deliveries). Values travel as codec text (docs/payloads.md),
as between the TypeScript runtime and its sandbox (src/workflow/protocol.ts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from .output import WorkflowOutput


@dataclass(slots=True, frozen=True)
class StepCommand:
    """Call a step: its name (the id runs record) and its arguments as codec text of a list."""

    name: str
    args: str
    kind: Literal["step"] = "step"


@dataclass(slots=True, frozen=True)
class SleepCommand:
    """Sleep durably until `resume_at` (epoch ms)."""

    resume_at: int
    kind: Literal["sleep"] = "sleep"


@dataclass(slots=True, frozen=True)
class EventCommand:
    """Wait for the first event of `event_type` not yet taken, or time out at `timeout_at`."""

    event_type: str
    timeout_at: int
    kind: Literal["event"] = "event"


@dataclass(slots=True, frozen=True)
class HookCommand:
    """Listen on a hook (a webhook when `webhook`), on `token` or one derived from the run."""

    token: str | None
    webhook: bool = False
    kind: Literal["hook"] = "hook"


Command = StepCommand | SleepCommand | EventCommand | HookCommand


@dataclass(slots=True, frozen=True)
class Receipt:
    """The deterministic id of the call, and for hooks the token (and a webhook's URL)."""

    id: str
    token: str | None = None
    url: str | None = None


DeliveryKind = Literal[
    "step_completed",
    "step_failed",
    "wait_completed",
    "event_received",
    "event_timed_out",
    "hook_received",
    "hook_conflict",
]


@dataclass(slots=True, frozen=True)
class Delivery:
    """An outcome for call `id`: a value or an error as codec text (`text`), and for events the time sent."""

    kind: DeliveryKind
    id: str
    text: str = ""
    sent_at: int = 0


def describe_command(command: Command) -> str:
    """A call the workflow makes, for messages."""
    if isinstance(command, StepCommand):
        return f'step "{command.name}"'
    if isinstance(command, SleepCommand):
        return "sleep()"
    if isinstance(command, EventCommand):
        return f'wait_for_event("{command.event_type}")'
    return "a hook" if command.token is None else f'a hook on token "{command.token}"'


class Host(Protocol):
    """What the workflow side calls on the engine (the machine implements it)."""

    def command(self, command: Command) -> Receipt: ...

    def dispose_hook(self, hook_id: str) -> None: ...

    def settle(self, ok: bool, text: str) -> None: ...

    @property
    def replaying(self) -> bool: ...

    @property
    def workflow_output(self) -> WorkflowOutput:
        """Where the workflow body's prints and logging records go (kept for the next append)."""
        ...
