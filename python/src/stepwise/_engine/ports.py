"""What the engine needs from the payload format, as interfaces: the machine stores and reads
codec text through `RunPayloads` (one run's places, encrypted or not: docs/payloads.md §2, §5,
§6), and the workflow side turns values into codec text and back through `ValueCodec`."""

from __future__ import annotations

from typing import Protocol


class RunPayloads(Protocol):
    """One run's payload bytes: `seal` codec text at a place (refusing one over the per-payload
    limit, naming `what`), `open` stored bytes of a place back into codec text."""

    def seal(self, place: str, text: str, what: str) -> bytes: ...

    def open(self, place: str, data: bytes) -> str: ...


class ValueCodec(Protocol):
    """Values as codec text (devalue, docs/payloads.md §3) and back; errors as Error entries."""

    def stringify(self, value: object) -> str: ...

    def parse(self, text: str) -> object: ...

    def error_text(self, error: BaseException) -> str: ...

    def error_from(self, text: str) -> BaseException: ...


class Places:
    """Where a payload belongs in its run (src/serde/places.ts): bound into encrypted payloads."""

    RUN_INPUT = "run:input"
    RUN_OUTPUT = "run:output"
    RUN_ERROR = "run:error"

    @staticmethod
    def step_args(step_id: str) -> str:
        return f"step:{step_id}:args"

    @staticmethod
    def step_result(step_id: str) -> str:
        return f"step:{step_id}:result"

    @staticmethod
    def step_error(step_id: str) -> str:
        return f"step:{step_id}:error"

    @staticmethod
    def hook_payload(hook_id: str, inbox_id: str) -> str:
        return f"hook:{hook_id}:payload:{inbox_id}"

    @staticmethod
    def event_payload(event_id: str, event_type: str) -> str:
        return f"event:{event_id}:payload:{event_type}"
