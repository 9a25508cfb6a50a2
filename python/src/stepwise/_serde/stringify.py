"""Python values to devalue text, byte for byte what the TypeScript engine writes (docs/payloads.md §3).

The text is an array of entries, entry 0 the value; containers refer to their members by index,
so a string or number that occurs twice, and an object reached twice (cycles too), is written
once. Entries are numbered depth-first in member order, as devalue numbers them. What each Python
type becomes is the table in docs/python.md ("Payloads in Python"); in short:

- `None`, `bool`, `str`, `int` (a BigInt entry beyond ±(2^53 - 1)), `float` (NaN, ±inf and -0.0
  are devalue's constants), `UNDEFINED` (`-1`);
- `list` and `tuple` as arrays; `dict` with only `str` keys as a plain object (keys that are array
  indices first, in ascending order, as TypeScript orders them), any other `dict` (and `JSMap`)
  as a `Map`; `set` and `frozenset` as a `Set` (sorted when the members can be, so the text does
  not depend on the process's hash seed);
- `datetime` as a Date (UTC, milliseconds; a naive one is local time, as `datetime.timestamp`
  takes it); `bytes`, `bytearray` and byte `memoryview`s as a `Uint8Array`; `re.Pattern` and
  `RegExp` as a RegExp; `URL`, `URLSearchParams`, `TypedArray`, `ClassInstance` as themselves;
  `httpx.Headers` as Headers;
- exceptions as an Error entry (see `error_values.py`);
- a pydantic model as the plain object `model_dump(mode="json", by_alias=True)` gives, and a
  dataclass instance as a plain object of its fields (values written by these same rules).

Anything else raises `SerializationError` naming where it is (`result["items"][3]`), what it is,
and what to pass instead.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import sys
from collections.abc import Callable
from datetime import datetime
from math import copysign, inf
from typing import Final, TypeVar, cast

import httpx
import pydantic

from .error_values import exception_to_shape
from .errors import SerializationError
from .numbers import MAX_SAFE_INTEGER, format_float
from .text import quote
from .undefined import UNDEFINED
from .value_kinds import (
    Unwritable,
    explain,
    headers_entries,
    iso_date,
    js_key_order,
    member_order,
    regexp_flags,
    scalar,
    type_name,
)
from .values import URL, ClassInstance, JSMap, RegExp, TypedArray, URLSearchParams

_UNDEFINED_INDEX: Final = -1
_NAN: Final = -3
_POSITIVE_INFINITY: Final = -4
_NEGATIVE_INFINITY: Final = -5
_NEGATIVE_ZERO: Final = -6

_UNSUPPORTED_FLAGS: Final = re.VERBOSE | re.LOCALE | re.ASCII | re.DEBUG
#: `memoryview` formats and the typed array that holds the same items.
_FORMAT_KINDS: Final = {
    "b": "Int8Array",
    "B": "Uint8Array",
    "h": "Int16Array",
    "H": "Uint16Array",
    "i": "Int32Array",
    "I": "Uint32Array",
    "q": "BigInt64Array",
    "Q": "BigUint64Array",
    "e": "Float16Array",
    "f": "Float32Array",
    "d": "Float64Array",
}
_K = TypeVar("_K")

#: What to do, said after every value that cannot be written.
PLAIN_DATA_HINT: Final = (
    "Pass or return plain data: dicts, lists, tuples, str, int, float, bool, None, datetime, bytes, "
    "sets, exceptions, dataclasses or pydantic models (docs/python.md, \"Payloads in Python\")"
)

class _Writer:
    """One `stringify` call: the entries written so far and what is already in them."""

    __slots__ = ("bigints", "entries", "keep", "numbers", "objects", "singletons", "strings")

    def __init__(self) -> None:
        self.entries: list[str] = []
        self.strings: dict[str, int] = {}
        self.numbers: dict[int | float, int] = {}
        self.bigints: dict[int, int] = {}
        self.singletons: dict[object, int] = {}
        self.objects: dict[int, int] = {}
        # Objects made while writing (a model's dump, an error's shape) live until the end, so
        # their ids, which index `objects`, are not reused by later ones.
        self.keep: list[object] = []

    def _primitive(self, table: dict[_K, int], key: _K, text: str) -> int:
        index = len(self.entries)
        table[key] = index
        self.entries.append(text)
        return index

    def flatten(self, value: object) -> int:
        """The index of `value`'s entry (written now if it is new), or a negative constant."""
        if type(value) is str:
            found = self.strings.get(value)
            if found is not None:
                return found
            index = len(self.entries)
            self.strings[value] = index
            self.entries.append(quote(value))
            return index
        if type(value) is int:
            return self._int(value)
        if type(value) is float:
            return self._float(value)
        if type(value) is bool or value is None:
            found = self.singletons.get(value)
            if found is not None:
                return found
            text = "null" if value is None else "true" if value else "false"
            return self._primitive(self.singletons, value, text)
        if value is UNDEFINED:
            return _UNDEFINED_INDEX
        if type(value) is not dict and type(value) is not list:
            plain = scalar(value)
            if plain is not None:
                return self.flatten(plain)
        key = id(value)
        found = self.objects.get(key)
        if found is not None:
            return found
        index = len(self.entries)
        self.objects[key] = index
        self.entries.append("")
        if type(value) is dict:
            self.entries[index] = self._dict(value)
        elif type(value) is list or type(value) is tuple:
            self.entries[index] = self._array(value)
        else:
            self.entries[index] = self._other(value)
        return index

    def _int(self, value: int) -> int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            found = self.numbers.get(value)
            return found if found is not None else self._primitive(self.numbers, value, str(value))
        found = self.bigints.get(value)
        if found is not None:
            return found
        try:
            digits = str(value)
        except ValueError:  # past sys.get_int_max_str_digits(): Python refuses to write it
            raise Unwritable(
                value,
                f"it is an int of about {value.bit_length() * 3 // 10} digits, more than Python "
                "converts to text (sys.set_int_max_str_digits)",
            ) from None
        return self._primitive(self.bigints, value, f'["BigInt","{digits}"]')

    def _float(self, value: float) -> int:
        if value != value:
            return _NAN
        if value == inf:
            return _POSITIVE_INFINITY
        if value == -inf:
            return _NEGATIVE_INFINITY
        if value == 0.0 and copysign(1.0, value) < 0:
            return _NEGATIVE_ZERO
        found = self.numbers.get(value)
        return found if found is not None else self._primitive(self.numbers, value, format_float(value))

    def _array(self, items: list[object] | tuple[object, ...]) -> str:
        parts: list[str] = []
        try:
            for item in items:
                parts.append(str(self.flatten(item)))
        except Unwritable as error:
            error.segments.append(f"[{len(parts)}]")
            raise
        return "[" + ",".join(parts) + "]"

    def _dict(self, mapping: dict[object, object]) -> str:
        for key in mapping:
            if not isinstance(key, str):
                return self._map(mapping)
        return self._object(cast(dict[str, object], mapping))

    def _object(self, mapping: dict[str, object], attributes: bool = False) -> str:
        keys = js_key_order(list(mapping))
        parts: list[str] = []
        key = ""
        try:
            for key in keys:
                if key == "__proto__":
                    raise Unwritable(mapping, 'it has the key "__proto__", which TypeScript refuses to read')
                parts.append(quote(key) + ":" + str(self.flatten(mapping[key])))
        except Unwritable as error:
            if error.value is not mapping:
                error.segments.append(f".{key}" if attributes and key.isidentifier() else f"[{quote(key)}]")
            raise
        return "{" + ",".join(parts) + "}"

    def _map(self, mapping: dict[object, object]) -> str:
        parts: list[str] = ['"Map"']
        position = 0
        try:
            for position, (key, item) in enumerate(mapping.items()):
                parts.append(str(self.flatten(key)))
                parts.append(str(self.flatten(item)))
        except Unwritable as error:
            error.segments.append(
                f"[{key!r}]" if len(parts) % 2 == 0 else f" (key {position} of the dict)"
            )
            raise
        return "[" + ",".join(parts) + "]"

    def _set(self, members: set[object] | frozenset[object]) -> str:
        try:
            ordered: list[object] = sorted(members, key=member_order)
        except TypeError:
            ordered = list(members)
        parts = ['"Set"']
        try:
            for member in ordered:
                parts.append(str(self.flatten(member)))
        except Unwritable as error:
            error.segments.append(f" (member {len(parts) - 1} of the set)")
            raise
        return "[" + ",".join(parts) + "]"

    def _wrapped(self, tag: str, made: object) -> str:
        """`["Tag", i]` where entry i is `made`, an object built for this value (devalue's reducers)."""
        self.keep.append(made)
        return f'["{tag}",{self.flatten(made)}]'

    def _bytes(self, kind: str, data: bytes | bytearray | memoryview) -> str:
        buffer = base64.b64encode(data).decode("ascii")
        index = len(self.entries)
        self.entries.append(f'["ArrayBuffer","{buffer}"]')
        return f'["{kind}",{index}]'

    def _other(self, value: object) -> str:
        if isinstance(value, dict):
            return self._map(value) if isinstance(value, JSMap) else self._dict(value)
        if isinstance(value, list | tuple):
            return self._array(value)
        if isinstance(value, set | frozenset):
            return self._set(value)
        if isinstance(value, BaseException):
            shape = exception_to_shape(value, _writable)
            try:
                return self._wrapped("Error", shape)
            except Unwritable as error:
                error.segments.append(f" (in the exception {type(value).__name__})")
                raise
        if isinstance(value, datetime):
            return f'["Date","{iso_date(value)}"]'
        if isinstance(value, bytes | bytearray):
            return self._bytes("Uint8Array", value)
        if isinstance(value, URL):
            return f'["URL",{quote(str.__str__(value))}]'
        if isinstance(value, URLSearchParams):
            return f'["URLSearchParams",{quote(str.__str__(value))}]'
        if isinstance(value, re.Pattern):
            return self._pattern(value)
        if isinstance(value, RegExp):
            flags = f',{quote(value.flags)}' if value.flags else ""
            return f'["RegExp",{quote(value.source)}{flags}]'
        if isinstance(value, memoryview):
            kind = _FORMAT_KINDS.get(value.format)
            if kind is None:
                raise Unwritable(
                    value, f"it is a memoryview of format {value.format!r}, which no typed array matches"
                )
            return self._bytes(kind, value.tobytes())
        if isinstance(value, TypedArray):
            return self._bytes(value.kind, value.data)
        if isinstance(value, ClassInstance):
            return self._wrapped("Class", [value.class_id, value.data])
        if isinstance(value, httpx.Headers):
            return self._wrapped("Headers", headers_entries(value))
        if isinstance(value, pydantic.BaseModel):
            return self._model(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
            self.keep.append(fields)
            return self._object(fields, attributes=True)
        raise Unwritable(value, explain(value))

    def _pattern(self, pattern: re.Pattern[str] | re.Pattern[bytes]) -> str:
        if not isinstance(pattern.pattern, str):
            raise Unwritable(pattern, "it is a bytes regular expression; JavaScript's are strings")
        if pattern.flags & _UNSUPPORTED_FLAGS & ~re.UNICODE:
            raise Unwritable(
                pattern,
                "it is a regular expression with flags JavaScript does not have (VERBOSE, ASCII or "
                "LOCALE); use re.IGNORECASE, re.MULTILINE and re.DOTALL only",
            )
        flags = regexp_flags(pattern)
        return f'["RegExp",{quote(pattern.pattern)}{f",{quote(flags)}" if flags else ""}]'

    def _model(self, model: pydantic.BaseModel) -> str:
        try:
            dumped = model.model_dump(mode="json", by_alias=True)
        except Exception as error:
            raise Unwritable(
                model,
                f"it is a pydantic model ({type_name(model)}) whose model_dump(mode='json') failed: {error}",
            ) from error
        self.keep.append(dumped)
        return self._object(dumped, attributes=True)


def _writable(value: object) -> bool:
    try:
        stringify(value)
    except SerializationError:
        return False
    return True


def stringify(value: object, *, root: str = "value") -> str:
    """The devalue text of `value`, as the TypeScript engine writes it.

    `root` names the value in errors (`"result"`, `"the arguments"`): a `SerializationError` says
    where inside it the unwritable part is (`result["items"][3]`), what it is and what to do.
    """
    writer = _Writer()
    try:
        index = writer.flatten(value)
    except Unwritable as error:
        path = root + "".join(reversed(error.segments))
        raise SerializationError(
            f"{path} cannot be serialized: {error.reason}. {PLAIN_DATA_HINT}.",
            path=path,
            type_name=type_name(error.value),
        ) from None
    except RecursionError:
        raise SerializationError(
            f"{root} cannot be serialized: it is nested too deeply (over about "
            f"{sys.getrecursionlimit() // 3} levels). Flatten the structure, or pass it in parts.",
            path=root,
        ) from None
    if index < 0:
        return str(index)
    return "[" + ",".join(writer.entries) + "]"


#: A function that writes a value (`stringify`), for callers that take one.
Stringify = Callable[[object], str]
