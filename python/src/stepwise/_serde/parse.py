"""devalue text to Python values: every entry of docs/payloads.md §3, as docs/python.md's table says.

Entries are read once each and shared, so a repeated object is the same Python object and a
cyclic value is cyclic in Python too. An array that is a Map key or a Set member is a tuple (a
list cannot be one). A value Python cannot hold (a Set of objects, a Map keyed by objects, a Date
outside years 1 to 9999, a Temporal value) is refused with a `SerializationError` that names it,
never read as something else.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Final

import httpx

from .error_values import exception_from_shape
from .errors import SerializationError
from .numbers import read_number
from .undefined import UNDEFINED
from .values import URL, ClassInstance, JSMap, RegExp, TypedArray, URLSearchParams

_CONSTANTS: Final[dict[int, object]] = {
    -1: UNDEFINED,
    -3: float("nan"),
    -4: float("inf"),
    -5: float("-inf"),
    -6: -0.0,
}
_HOLE: Final = -2
_SPARSE: Final = -7
_MAX_SPARSE_LENGTH: Final = 10_000_000
_MISSING: Final = object()
_DIGITS: Final = re.compile(r"-?[0-9]+")
_PYTHON_FLAGS: Final = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}
_ITEM_BYTES: Final = {
    "Int8Array": 1,
    "Uint8Array": 1,
    "Uint8ClampedArray": 1,
    "Int16Array": 2,
    "Uint16Array": 2,
    "Float16Array": 2,
    "Int32Array": 4,
    "Uint32Array": 4,
    "Float32Array": 4,
    "Float64Array": 8,
    "BigInt64Array": 8,
    "BigUint64Array": 8,
    "DataView": 1,
}


def _malformed(why: str) -> SerializationError:
    return SerializationError(
        f"The payload's text is not valid devalue text ({why}): it was not written by Stepwise, or "
        "it was damaged. Nothing was read from it."
    )


def _unreadable(what: str, advice: str) -> SerializationError:
    return SerializationError(f"The payload holds {what}, which Python cannot represent. {advice}")


def _regexp(source: object, flags: object) -> object:
    if not isinstance(source, str) or not isinstance(flags, str):
        raise _malformed("a RegExp entry without a string source and flags")
    if all(flag in _PYTHON_FLAGS for flag in flags):
        compiled = 0
        for flag in flags:
            compiled |= _PYTHON_FLAGS[flag]
        try:
            return re.compile(source, compiled)
        except re.error:
            pass
    return RegExp(source, flags)


def _date(text: object) -> datetime:
    if not isinstance(text, str):
        raise _malformed("a Date entry without a string")
    if text == "":
        raise _unreadable(
            "an invalid JavaScript Date (new Date(NaN))",
            "Have the TypeScript side send null or a valid date instead.",
        )
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except ValueError:
        raise _unreadable(
            f"the JavaScript Date {text}",
            "Python's datetime holds the years 1 to 9999 only; send the date as a string instead.",
        ) from None


def _hashable(value: object) -> object:
    """A Map key or Set member as Python can hold it: an array becomes a tuple (of tuples)."""
    if type(value) is list:
        return tuple(_hashable(item) for item in value)
    return value


class _Reader:
    """One `parse` call: the entries, and the values already built from them."""

    __slots__ = ("hydrated", "reviving", "values")

    def __init__(self, values: list[object]) -> None:
        self.values = values
        self.hydrated: list[object] = [_MISSING] * len(values)
        self.reviving: set[int] = set()

    def hydrate(self, index: object) -> object:
        """The value of entry `index` (or the constant `index` stands for)."""
        if type(index) is not int:
            raise _malformed(f"a reference {json.dumps(index)} that is not an index")
        if index < 0:
            if index in _CONSTANTS:
                return _CONSTANTS[index]
            raise _malformed(f"the reference {index} where a value belongs")
        try:
            found = self.hydrated[index]
        except IndexError:
            raise _malformed(f"a reference to entry {index} of {len(self.values)}") from None
        if found is not _MISSING:
            return found
        value = self.values[index]
        result: object
        if value is None or isinstance(value, str | bool):
            result = value
        elif isinstance(value, int | float):
            result = read_number(value)
        elif isinstance(value, list):
            return self._list(index, value)
        elif isinstance(value, dict):
            mapping: dict[str, object] = {}
            self.hydrated[index] = mapping
            for key, member in value.items():
                mapping[key] = self.hydrate(member)
            return mapping
        else:  # pragma: no cover - json.loads makes nothing else
            raise _malformed(f"an entry of type {type(value).__name__}")
        self.hydrated[index] = result
        return result

    def _list(self, index: int, entry: list[object]) -> object:
        if entry and type(entry[0]) is str:
            return self._tagged(index, entry[0], entry)
        if entry and entry[0] == _SPARSE:
            return self._sparse(index, entry)
        items: list[object] = []
        self.hydrated[index] = items
        for member in entry:
            items.append(UNDEFINED if member == _HOLE else self.hydrate(member))
        return items

    def _sparse(self, index: int, entry: list[object]) -> list[object]:
        length = entry[1] if len(entry) > 1 else None
        if type(length) is not int or not 0 <= length <= _MAX_SPARSE_LENGTH:
            raise _malformed(f"a sparse array of length {json.dumps(length)}")
        items: list[object] = [UNDEFINED] * length
        self.hydrated[index] = items
        for position in range(2, len(entry) - 1, 2):
            at = entry[position]
            if type(at) is not int or not 0 <= at < length:
                raise _malformed(f"a sparse array index {json.dumps(at)}")
            items[at] = self.hydrate(entry[position + 1])
        return items

    def _tagged(self, index: int, tag: str, entry: list[object]) -> object:
        if tag in _REVIVERS:
            return self._revive(index, tag, entry)
        arg = entry[1] if len(entry) > 1 else None
        result: object
        if tag == "Date":
            result = _date(arg)
        elif tag == "Set":
            return self._set(index, entry)
        elif tag == "Map":
            return self._map(index, entry)
        elif tag == "BigInt":
            if not isinstance(arg, str) or _DIGITS.fullmatch(arg) is None:
                raise _malformed("a BigInt entry without its digits")
            try:
                result = int(arg)
            except ValueError:  # past sys.get_int_max_str_digits()
                raise _unreadable(
                    f"a BigInt of {len(arg)} digits",
                    "Python reads at most sys.get_int_max_str_digits() digits; raise that limit "
                    "with sys.set_int_max_str_digits if the number is expected.",
                ) from None
        elif tag == "RegExp":
            result = _regexp(arg, entry[2] if len(entry) > 2 else "")
        elif tag == "URL" or tag == "URLSearchParams":
            if not isinstance(arg, str):
                raise _malformed(f"a {tag} entry without its text")
            result = URL(arg) if tag == "URL" else URLSearchParams(arg)
        elif tag == "ArrayBuffer":
            if not isinstance(arg, str):
                raise _malformed("an ArrayBuffer entry without its base64")
            try:
                result = base64.b64decode(arg, validate=True)
            except binascii.Error:
                raise _malformed("an ArrayBuffer entry whose base64 is damaged") from None
        elif tag in _ITEM_BYTES:
            result = self._view(tag, entry)
        elif tag == "Object":
            result = self.hydrate(arg)
        elif tag == "null":
            return self._null_prototype(index, entry)
        elif tag.startswith("Temporal."):
            raise _unreadable(
                f"a JavaScript {tag}", "Have the TypeScript side send it as a string (toString())."
            )
        else:
            raise SerializationError(
                f'The payload holds a value of type "{tag}", which this version of the Python SDK '
                "does not know: it was written by a newer Stepwise. Upgrade stepwise-workflows."
            )
        self.hydrated[index] = result
        return result

    def _set(self, index: int, entry: list[object]) -> set[object]:
        members: set[object] = set()
        self.hydrated[index] = members
        for reference in entry[1:]:
            member = _hashable(self.hydrate(reference))
            try:
                if member in members:
                    raise _unreadable(
                        f"a JavaScript Set whose members {member!r} and another are one value in Python",
                        "Have the TypeScript side send an array instead.",
                    )
                members.add(member)
            except TypeError:
                raise _unreadable(
                    f"a JavaScript Set holding a {type(member).__name__}",
                    "A Python set holds only hashable values; have the TypeScript side send an array.",
                ) from None
        return members

    def _map(self, index: int, entry: list[object]) -> JSMap:
        mapping = JSMap()
        self.hydrated[index] = mapping
        for position in range(1, len(entry) - 1, 2):
            key = _hashable(self.hydrate(entry[position]))
            try:
                if key in mapping:
                    raise _unreadable(
                        f"a JavaScript Map whose keys {key!r} and another are one key in Python",
                        "Have the TypeScript side send an array of [key, value] pairs instead.",
                    )
                mapping[key] = self.hydrate(entry[position + 1])
            except TypeError:
                raise _unreadable(
                    f"a JavaScript Map keyed by a {type(key).__name__}",
                    "A Python dict's keys must be hashable; have the TypeScript side send an array "
                    "of [key, value] pairs instead.",
                ) from None
        return mapping

    def _null_prototype(self, index: int, entry: list[object]) -> dict[str, object]:
        mapping: dict[str, object] = {}
        self.hydrated[index] = mapping
        for position in range(1, len(entry) - 1, 2):
            key = entry[position]
            if not isinstance(key, str):
                raise _malformed("a null-prototype object with a key that is not a string")
            mapping[key] = self.hydrate(entry[position + 1])
        return mapping

    def _view(self, tag: str, entry: list[object]) -> object:
        reference = entry[1] if len(entry) > 1 else None
        target = None
        if isinstance(reference, int) and 0 <= reference < len(self.values):
            target = self.values[reference]
        if not (isinstance(target, list) and target and target[0] == "ArrayBuffer"):
            raise _malformed(f"a {tag} that does not refer to an ArrayBuffer")
        buffer = self.hydrate(reference)
        if not isinstance(buffer, bytes):  # pragma: no cover - an ArrayBuffer entry reads as bytes
            raise _malformed(f"a {tag} over something that is not bytes")
        if len(entry) > 2:
            offset, length = entry[2], entry[3] if len(entry) > 3 else None
            if type(offset) is not int or type(length) is not int:
                raise _malformed(f"a {tag} with a bad offset or length")
            buffer = buffer[offset : offset + length * _ITEM_BYTES[tag]]
        if tag == "Uint8Array":
            return buffer
        return TypedArray(tag, buffer)

    def _revive(self, index: int, tag: str, entry: list[object]) -> object:
        """An entry of Stepwise's own (Error, Headers, Class): built from the value at `entry[1]`."""
        inner = entry[1] if len(entry) > 1 else None
        if type(inner) is not int or not 0 <= inner < len(self.values):
            raise _malformed(f"a {tag} entry without a valid reference")
        if self.hydrated[inner] is _MISSING:
            if inner in self.reviving:
                raise _malformed(f"a {tag} that contains itself")
            self.reviving.add(inner)
            data = self.hydrate(inner)
            self.reviving.discard(inner)
        else:
            data = self.hydrated[inner]
        result = _REVIVERS[tag](data)
        self.hydrated[index] = result
        return result


def _revive_error(data: object) -> object:
    if not isinstance(data, dict):
        raise _malformed("an Error entry whose shape is not an object")
    return exception_from_shape(data)


def _revive_headers(data: object) -> object:
    if not isinstance(data, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)
        for pair in data
    ):
        raise _malformed("a Headers entry that is not a list of [name, value] pairs")
    return httpx.Headers([(pair[0], pair[1]) for pair in data])


def _revive_class(data: object) -> object:
    if not isinstance(data, list) or len(data) != 2 or not isinstance(data[0], str):
        raise _malformed("a Class entry that is not [class id, data]")
    return ClassInstance(data[0], data[1])


_REVIVERS: Final[dict[str, Callable[[object], object]]] = {
    "Error": _revive_error,
    "Headers": _revive_headers,
    "Class": _revive_class,
}


def parse(text: str) -> object:
    """The value devalue text stands for (see docs/python.md for what each entry becomes).

    `SerializationError` when the text is not devalue text, or holds a value Python cannot
    represent (the message names it).
    """
    try:
        data = json.loads(text)
    except ValueError as error:
        raise _malformed(f"it is not JSON: {error}") from None
    if type(data) is int:
        if data in _CONSTANTS:
            return _CONSTANTS[data]
        raise _malformed(f"the number {data} alone")
    if type(data) is not list or not data:
        raise _malformed("it is not a non-empty array")
    try:
        return _Reader(data).hydrate(0)
    except RecursionError:
        raise SerializationError(
            "The payload's value is nested too deeply for Python to read. Flatten the structure, or "
            "raise sys.setrecursionlimit."
        ) from None
