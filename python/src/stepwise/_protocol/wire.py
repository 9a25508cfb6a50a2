"""Reading and writing protocol JSON by hand: base64 bytes and type-checked field access.

Answers are decoded with these small functions rather than a validation library: a worker reads
an answer per step, and plain code keeps that well under the per-step budget. A field of the
wrong type raises `WireFormatError`, which the transport reports as an answer this client does
not understand (`InvalidAnswerError`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

#: A JSON object as `json.loads` gives it.
JsonObject = dict[str, object]


class WireFormatError(ValueError):
    """A field of an answer is missing or of the wrong type (raised while decoding, never leaked)."""


def b64encode(data: bytes) -> str:
    """Bytes as the protocol sends them: standard base64 with padding."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: object, field: str) -> bytes:
    """The bytes of a base64 field."""
    if not isinstance(text, str):
        raise WireFormatError(f"{field}: expected base64 text")
    try:
        # strict_mode: the checks of b64decode(validate=True), in C, without its regular expression.
        return binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error as error:
        raise WireFormatError(f"{field}: not base64 ({error})") from None


def req_str(obj: Mapping[str, object], key: str) -> str:
    """A required string field."""
    value = obj.get(key)
    if type(value) is not str:
        raise WireFormatError(f"{key}: expected a string")
    return value


def opt_str(obj: Mapping[str, object], key: str) -> str | None:
    """An optional string field (absent: None)."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is not str:
        raise WireFormatError(f"{key}: expected a string")
    return value


def req_int(obj: Mapping[str, object], key: str) -> int:
    """A required integer field."""
    value = obj.get(key)
    if type(value) is not int:
        raise WireFormatError(f"{key}: expected an integer")
    return value


def opt_int(obj: Mapping[str, object], key: str) -> int | None:
    """An optional integer field (absent: None)."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is not int:
        raise WireFormatError(f"{key}: expected an integer")
    return value


def req_bool(obj: Mapping[str, object], key: str) -> bool:
    """A required boolean field."""
    value = obj.get(key)
    if type(value) is not bool:
        raise WireFormatError(f"{key}: expected a boolean")
    return value


def opt_bool(obj: Mapping[str, object], key: str) -> bool | None:
    """An optional boolean field (absent: None)."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is not bool:
        raise WireFormatError(f"{key}: expected a boolean")
    return value


def req_bytes(obj: Mapping[str, object], key: str) -> bytes:
    """A required base64 field, decoded."""
    return b64decode(obj.get(key), key)


def opt_bytes(obj: Mapping[str, object], key: str) -> bytes | None:
    """An optional base64 field, decoded (absent: None)."""
    value = obj.get(key)
    return None if value is None else b64decode(value, key)


def req_obj(obj: Mapping[str, object], key: str) -> JsonObject:
    """A required JSON object field."""
    value = obj.get(key)
    if type(value) is not dict:
        raise WireFormatError(f"{key}: expected an object")
    return value


def opt_obj(obj: Mapping[str, object], key: str) -> JsonObject | None:
    """An optional JSON object field (absent: None)."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is not dict:
        raise WireFormatError(f"{key}: expected an object")
    return value


def req_list(obj: Mapping[str, object], key: str) -> list[object]:
    """A required JSON array field."""
    value = obj.get(key)
    if type(value) is not list:
        raise WireFormatError(f"{key}: expected an array")
    return value


def as_obj(value: object, what: str) -> JsonObject:
    """An array element that must be a JSON object."""
    if type(value) is not dict:
        raise WireFormatError(f"{what}: expected an object")
    return value


def str_list(obj: Mapping[str, object], key: str) -> tuple[str, ...]:
    """A required array of strings."""
    out: list[str] = []
    for item in req_list(obj, key):
        if type(item) is not str:
            raise WireFormatError(f"{key}: expected strings")
        out.append(item)
    return tuple(out)


def put(body: JsonObject, key: str, value: object) -> None:
    """Sets `key` unless `value` is None: the protocol leaves absent fields out, never sends null."""
    if value is not None:
        body[key] = value
