"""What the engine needs from the payload format, as interfaces: the machine stores and reads
codec text through `RunPayloads` (one run's places, encrypted or not: docs/payloads.md §2, §5,
§6), and the workflow side turns values into codec text and back through `ValueCodec`.
`codec.py` implements both with `stepwise._serde`."""

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
