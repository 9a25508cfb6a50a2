"""The per-payload size limit (docs/payloads.md §7), read as the TypeScript engine reads it.

`STEPWISE_MAX_PAYLOAD_BYTES` bounds one payload's stored bytes, the envelope included (default
50 MB). A payload over it is refused before it is encrypted or stored, with a
`PayloadTooLargeError` that says its size, the limit and what to do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from .errors import PayloadConfigError, PayloadTooLargeError

MAX_PAYLOAD_ENV: Final = "STEPWISE_MAX_PAYLOAD_BYTES"
DEFAULT_MAX_PAYLOAD_BYTES: Final = 50 * 1024 * 1024


def max_payload_bytes_from_env(env: Mapping[str, str] | None = None) -> int:
    """`STEPWISE_MAX_PAYLOAD_BYTES`, or the default; `PayloadConfigError` when it is not a size."""
    text = (os.environ if env is None else env).get(MAX_PAYLOAD_ENV, "").strip()
    if text == "":
        return DEFAULT_MAX_PAYLOAD_BYTES
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0 or value > 2**53 - 1:
        raise PayloadConfigError(
            f'{MAX_PAYLOAD_ENV} must be a positive whole number of bytes (got "{text}").'
        )
    return value


def format_bytes(size: int) -> str:
    """A byte count in words, as the TypeScript engine writes it ("812 bytes", "1.5 MB")."""
    if size < 1024:
        return f"{size} bytes"
    units = ("KB", "MB", "GB", "TB")
    value = size / 1024
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    return f"{value:.0f} {units[unit]}" if value >= 10 else f"{value:.1f} {units[unit]}"


def check_payload_size(size: int, limit: int, what: str) -> None:
    """`PayloadTooLargeError` when a payload of `size` bytes is over `limit`; `what` names it."""
    if size <= limit:
        return
    raise PayloadTooLargeError(
        f"{what} is {format_bytes(size)}, over the {format_bytes(limit)} limit per payload. Store "
        "large data elsewhere and pass a reference (a key or URL), or raise "
        f"{MAX_PAYLOAD_ENV}.",
        size=size,
        limit=limit,
    )
