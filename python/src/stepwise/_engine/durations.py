"""Durations and deadlines as Python users write them.

A duration is a number of SECONDS (Python's convention, as Cloudflare's `step.sleep` and
`time.sleep` take), a `timedelta`, or a string such as "7 days", "1h", "30 s", "1.5 minutes",
"500ms" (the units of the `ms` package the TypeScript SDK reads: ms, s, m, h, d, w, y, and their
long forms). A deadline is a `datetime` (naive ones are local time) or epoch seconds.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

from .errors import InvalidDurationError

_UNITS_MS: dict[str, float] = {}
for _names, _ms in (
    (("ms", "msec", "msecs", "millisecond", "milliseconds"), 1),
    (("s", "sec", "secs", "second", "seconds"), 1000),
    (("m", "min", "mins", "minute", "minutes"), 60_000),
    (("h", "hr", "hrs", "hour", "hours"), 3_600_000),
    (("d", "day", "days"), 86_400_000),
    (("w", "week", "weeks"), 604_800_000),
    (("y", "yr", "yrs", "year", "years"), 31_557_600_000),
):
    for _name in _names:
        _UNITS_MS[_name] = _ms

_PATTERN = re.compile(r"^\s*(-?(?:\d+)?\.?\d+)\s*([a-z]*)\s*$", re.IGNORECASE)

Duration = float | int | str | timedelta


def duration_ms(value: object, what: str = "a duration") -> int:
    """Milliseconds of a duration (see the module docstring); `InvalidDurationError` otherwise."""
    if isinstance(value, bool):
        raise InvalidDurationError(_message(value, what))
    if isinstance(value, timedelta):
        ms = value.total_seconds() * 1000
    elif isinstance(value, int | float):
        ms = float(value) * 1000
    elif isinstance(value, str):
        match = _PATTERN.match(value)
        if match is None:
            raise InvalidDurationError(_message(value, what))
        unit = match.group(2).lower()
        if unit not in _UNITS_MS:
            raise InvalidDurationError(_message(value, what))
        ms = float(match.group(1)) * _UNITS_MS[unit]
    else:
        raise InvalidDurationError(_message(value, what))
    if not math.isfinite(ms) or ms < 0:
        raise InvalidDurationError(_message(value, what))
    return math.ceil(ms)


def deadline_ms(value: object, what: str = "a time") -> int:
    """Epoch milliseconds of a deadline: a `datetime`, or epoch seconds."""
    if isinstance(value, datetime):
        return math.ceil(value.timestamp() * 1000)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
        return math.ceil(float(value) * 1000)
    raise InvalidDurationError(
        f"{what} must be a datetime or seconds since the Unix epoch, got {value!r}."
    )


def _message(value: object, what: str) -> str:
    return (
        f"{what} must be a number of seconds, a timedelta, or a string such as \"7 days\", \"1h\" or "
        f"\"30s\"; got {value!r}."
    )
