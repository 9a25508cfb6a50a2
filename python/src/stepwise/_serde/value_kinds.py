"""What the writer (`stringify.py`) needs to know about Python values, kept apart from the writing.

How a value is named in errors and why it cannot be written (`explain`), the order of an
object's keys and of a set's members as the text needs them, a `datetime` as `toISOString()`
writes it, `httpx.Headers` as TypeScript's `Headers` lists them, and the plain number or string a
subclass or number-like object stands for.
"""

from __future__ import annotations

import enum
import numbers
import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Final
from uuid import UUID

import httpx

from .values import URL, URLSearchParams

_FLAG_LETTERS: Final = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))
_ARRAY_INDEX_LIMIT: Final = 2**32 - 2


class Unwritable(Exception):
    """Raised inside the writer; each container on the way out adds where it holds the value."""

    def __init__(self, value: object, reason: str) -> None:
        super().__init__(reason)
        self.value = value
        self.reason = reason
        self.segments: list[str] = []


def type_name(value: object) -> str:
    """The type of `value` as errors name it: `socket.socket`, `_thread.lock`, `int`."""
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _is_array_index(key: str) -> bool:
    return (
        key.isascii()
        and key.isdigit()
        and (key == "0" or key[0] != "0")
        and int(key) <= _ARRAY_INDEX_LIMIT
    )


def js_key_order(keys: list[str]) -> list[str]:
    """Keys in the order a TypeScript object holds them: array indices ascending, then the rest."""
    indices = [key for key in keys if key[:1].isdigit() and _is_array_index(key)]
    if not indices:
        return keys
    indices.sort(key=int)
    taken = set(indices)
    return indices + [key for key in keys if key not in taken]


def iso_date(value: datetime) -> str:
    """`Date#toISOString()`: UTC, milliseconds (a naive datetime is local time, as Python takes it)."""
    try:
        utc = value.astimezone(timezone.utc)
    except (OverflowError, ValueError, OSError) as error:
        raise Unwritable(value, f"it is a datetime that cannot be converted to UTC ({error})") from None
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def regexp_flags(pattern: re.Pattern[str]) -> str:
    """The JavaScript flags of a pattern's `IGNORECASE`, `MULTILINE` and `DOTALL` (`"ims"`)."""
    return "".join(letter for flag, letter in _FLAG_LETTERS if pattern.flags & flag)


def headers_entries(headers: httpx.Headers) -> list[list[str]]:
    """`[name, value]` pairs as TypeScript's `Headers` lists them: sorted, repeated names joined."""
    combined: dict[str, list[str]] = {}
    cookies: list[str] = []
    for name, value in headers.multi_items():
        if name == "set-cookie":
            cookies.append(value)
        else:
            combined.setdefault(name, []).append(value)
    names = sorted([*combined, *(["set-cookie"] if cookies else [])])
    entries: list[list[str]] = []
    for name in names:
        if name == "set-cookie":
            entries.extend([name, cookie] for cookie in cookies)
        else:
            entries.append([name, ", ".join(combined[name])])
    return entries


def member_order(member: object) -> tuple[int, float | str | bytes]:
    """Where a set's member goes in its text: by kind, then by value (TypeError: no order)."""
    if member is None or isinstance(member, bool):
        return (0, 1.0 if member is True else 0.0)
    if isinstance(member, int | float):
        return (1, member)
    if isinstance(member, str):
        return (2, member)
    if isinstance(member, bytes):
        return (3, member)
    if isinstance(member, datetime):
        return (4, iso_date(member))
    raise TypeError("no order")


def explain(value: object) -> str:
    """Why `value` cannot be written, and what to write instead."""
    name = type_name(value)
    if isinstance(value, enum.Enum):
        return f"it is the enum member {value!s} ({name}); pass its .value instead"
    if isinstance(value, date | time):
        return f"it is a {name}; pass a datetime, or a string from .isoformat()"
    if isinstance(value, timedelta):
        return "it is a timedelta; pass a number (seconds or milliseconds, say which in the name)"
    if isinstance(value, Decimal | Fraction | UUID):
        return f"it is a {name}; pass str(value), or float(value) where a float is precise enough"
    if callable(value) and hasattr(value, "__name__"):
        return (
            f"it is a {name} ({getattr(value, '__qualname__', value.__name__)}); functions cannot "
            "cross a step or workflow boundary"
        )
    if hasattr(value, "__await__"):
        return f"it is an awaitable ({name}); await it and pass its result"
    if hasattr(value, "__next__") or hasattr(value, "__anext__"):
        return f"it is an iterator ({name}); pass list(...) of it"
    return f"it is an instance of {name}, which Stepwise cannot serialize"


def scalar(value: object) -> str | int | float | None:
    """The plain `str`, `int` or `float` a subclass or number-like object stands for, if any.

    `StrEnum` and `IntEnum` members are their values; numpy's integers and floats (registered as
    `numbers.Integral` and `numbers.Real`) are numbers. `Decimal` and `Fraction` are not: they
    would lose digits, so they are refused with a hint.
    """
    if isinstance(value, str):
        return None if isinstance(value, URL | URLSearchParams) else str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Rational):
        return float(value)
    return None
