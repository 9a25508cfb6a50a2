"""Python types for TypeScript values that have no exact Python twin.

Each one reads like the closest Python type (a `URL` is a `str`, a `JSMap` is a `dict`) and is
written back as the TypeScript value it was read from, so a value passing through Python code
reaches TypeScript unchanged:

- `URL`, `URLSearchParams`: strings that are written as a `URL` / `URLSearchParams` entry.
- `JSMap`: a `dict` written as a `Map` (a plain `dict` with only `str` keys is a plain object).
- `RegExp`: a regular expression Python's `re` cannot hold (flags `g`, `y`, `d`, `u`, `v`, or a
  source `re` does not accept); `.compile()` tries anyway.
- `TypedArray`: a typed array other than `Uint8Array` (`Int16Array`, `Float64Array`, ...) or a
  `DataView`: its kind and bytes; `.view()` is a `memoryview` of its items.
- `ClassInstance`: an instance of a TypeScript class registered with Stepwise (`["Class", …]`):
  its class id and the data its `serialize` returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


class URL(str):
    """A URL read from (or to be written as) a TypeScript `URL`; otherwise an ordinary `str`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"URL({str.__repr__(self)})"


class URLSearchParams(str):
    """A query string read from (or to be written as) TypeScript `URLSearchParams`; a `str`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"URLSearchParams({str.__repr__(self)})"


class JSMap(dict[object, object]):
    """A TypeScript `Map` in Python: a `dict`, written back as a `Map` whatever its keys."""

    __slots__ = ()


_RE_FLAGS: Final = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}


@dataclass(frozen=True, slots=True)
class RegExp:
    """A JavaScript regular expression kept as written (source and flags)."""

    source: str
    flags: str = ""

    def compile(self) -> re.Pattern[str]:
        """The closest `re.Pattern`: flags `i`, `m`, `s` carried over, the others dropped.

        Raises `re.error` when Python's `re` does not accept the source.
        """
        flags = 0
        for flag in self.flags:
            flags |= _RE_FLAGS.get(flag, 0)
        return re.compile(self.source, flags)


#: Typed array kinds and the `memoryview` format of their items.
TYPED_ARRAY_FORMATS: Final = {
    "Int8Array": "b",
    "Uint8ClampedArray": "B",
    "Int16Array": "h",
    "Uint16Array": "H",
    "Int32Array": "i",
    "Uint32Array": "I",
    "Float16Array": "e",
    "Float32Array": "f",
    "Float64Array": "d",
    "BigInt64Array": "q",
    "BigUint64Array": "Q",
    "DataView": "B",
}


@dataclass(frozen=True, slots=True)
class TypedArray:
    """A JavaScript typed array other than `Uint8Array` (which is `bytes`), or a `DataView`.

    `kind` is the JavaScript class (`"Float64Array"`); `data` its bytes, little-endian as every
    JavaScript engine Stepwise runs on stores them.
    """

    kind: str
    data: bytes

    def view(self) -> memoryview:
        """The items as a `memoryview` of the matching format (`Float64Array` -> `"d"`)."""
        view = memoryview(self.data)
        return view.cast(TYPED_ARRAY_FORMATS[self.kind])  # type: ignore[call-overload,no-any-return]


@dataclass(frozen=True, slots=True)
class ClassInstance:
    """An instance of a TypeScript class Stepwise serializes by id (`class//<path>//<Name>`).

    Python has no such class: the value keeps its id and data and is written back exactly as it
    was read, so it can pass through to TypeScript code that knows the class.
    """

    class_id: str
    data: object
