"""Payload bytes for tests that write through the protocol: docs/payloads.md §2, the clear envelope.

`payload(value)` is `0x01` followed by the value in devalue's text (§3), for plain JSON values
(None, booleans, numbers, strings, lists, dicts): each value an entry of its own, referred to by
index, nothing shared. The protocol treats the bytes as opaque; the World checks the envelope.
The SDK's real codec lives in `stepwise._serde`; this is only enough to write test data.
"""

from __future__ import annotations

import json


def devalue_text(value: object) -> str:
    """`value` in devalue's format (no deduplication, which readers do not require)."""
    entries: list[object] = []

    def flatten(item: object) -> int:
        index = len(entries)
        entries.append(None)
        if isinstance(item, dict):
            entries[index] = {str(k): flatten(v) for k, v in item.items()}
        elif isinstance(item, (list, tuple)):
            entries[index] = [flatten(v) for v in item]
        else:
            entries[index] = item
        return index

    flatten(value)
    return json.dumps(entries, separators=(",", ":"))


def payload(value: object) -> bytes:
    """The clear (`0x01`) envelope around `value`'s devalue text."""
    return b"\x01" + devalue_text(value).encode()
