"""Exceptions in payloads: what a Python exception becomes in an `Error` entry, and back.

Writing: an exception becomes the entry's shape, the fields TypeScript's errors carry (in this
order): `name` (the class name), `message` (`str(exc)`), `stack` (the Python traceback text,
without the chained causes), `cause` (`exc.__cause__`, itself an Error entry), `code` (a `str`
attribute `code`, as every `StepwiseError` has), `retryAfter` (a `retry_after` attribute:
seconds and `timedelta` become milliseconds, a `datetime` a Date, a `str` stays), `errors` (an
`ExceptionGroup`'s exceptions) and `props` (the other public attributes that are plain data).

Reading: a shape becomes an exception that can be raised again. A reviver registered for its
`code` decides first (`register_error_reviver`: the SDK's `FatalError` and `RetryableError`
come back as themselves). Else a name that is a Python built-in exception (`ValueError`,
`KeyError`, `TypeError`, ...; not the control-flow `StopIteration`s, nor `BaseException`s such as
`SystemExit`) gives that class, so `except ValueError` catches what a step
raised; an `ExceptionGroup` with its exceptions gives an `ExceptionGroup`. Anything else (a
TypeScript `Error`, a class of the application's) is a `SerializedError` holding the name.
Every exception read keeps its shape (`error_shape(exc)`), so written again it is the same entry,
stack included, and `__cause__` holds the cause.
"""

from __future__ import annotations

import builtins
import traceback
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Final

#: An `Error` entry's object: `name`, `message` and the optional fields, in the order written.
ErrorShape = dict[str, object]

#: Makes an exception from a shape whose `code` it was registered for.
ErrorReviver = Callable[[ErrorShape], BaseException]

_SHAPE_ATTR: Final = "_stepwise_error_shape"
#: Attributes carried in the shape's own fields (or internal), never among `props`.
_OWN_ATTRS: Final = frozenset({"code", "retry_after", "message", "args"})

_revivers: dict[str, ErrorReviver] = {}


class SerializedError(Exception):
    """An error read from a payload whose name Python has no class for (`Error`, `MyAppError`).

    `str(exc)` is the original message; `name`, `stack` (the original stack or traceback text),
    `code` and `props` are the original's. Raise it, catch it, or pass it on: written again it is
    the same entry.
    """

    def __init__(
        self,
        name: str,
        message: str,
        *,
        stack: str | None = None,
        code: str | None = None,
        props: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.stack = stack
        self.code = code
        self.props: dict[str, object] = dict(props or {})

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"SerializedError({self.name!r}, {self.message!r})"


def register_error_reviver(code: str, reviver: ErrorReviver) -> None:
    """Reads Error entries whose `code` is `code` with `reviver` (the SDK's own error classes)."""
    _revivers[code] = reviver


def error_shape(exc: BaseException) -> ErrorShape | None:
    """The shape an exception was read from, or None for one raised in this process."""
    shape = exc.__dict__.get(_SHAPE_ATTR) if hasattr(exc, "__dict__") else None
    return shape if isinstance(shape, dict) else None


def _retry_after(value: object) -> object:
    if isinstance(value, timedelta):
        return _milliseconds(value.total_seconds())
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _milliseconds(float(value))
    if isinstance(value, datetime | str):
        return value
    return None


def _milliseconds(seconds: float) -> int | float:
    ms = seconds * 1000
    return int(ms) if ms.is_integer() else ms


def exception_to_shape(exc: BaseException, writable: Callable[[object], bool]) -> ErrorShape:
    """The shape of `exc` for an `Error` entry. `writable(value)` says whether a prop can be written."""
    stored = error_shape(exc)
    if stored is not None:
        return stored
    own = exc if isinstance(exc, SerializedError) else None
    shape: ErrorShape = {"name": type(exc).__name__ if own is None else own.name, "message": str(exc)}
    stack = None if own is None else own.stack
    if stack is None:
        stack = "".join(traceback.format_exception(exc, chain=False)).rstrip("\n")
    if stack:
        shape["stack"] = stack
    if exc.__cause__ is not None:
        shape["cause"] = exc.__cause__
    code = getattr(exc, "code", None)
    if isinstance(code, str):
        shape["code"] = code
    retry_after = _retry_after(getattr(exc, "retry_after", None))
    if retry_after is not None:
        shape["retryAfter"] = retry_after
    if isinstance(exc, BaseExceptionGroup):
        shape["errors"] = list(exc.exceptions)
    attributes: dict[str, object] = getattr(exc, "__dict__", {}) if own is None else own.props
    props = {
        key: value
        for key, value in attributes.items()
        if not key.startswith("_") and key not in _OWN_ATTRS and writable(value)
    }
    if props:
        shape["props"] = props
    return shape


#: Built-ins that steer control flow (`for`, `async for`, generators) rather than report a failure:
#: raised again from a payload they would end a loop silently, so they are read as SerializedError.
_CONTROL_FLOW: Final = frozenset({"StopIteration", "StopAsyncIteration"})


def _builtin_exception(name: str) -> type[Exception] | None:
    """The built-in `Exception` subclass of that name (not `BaseException`-only ones, not control flow)."""
    found = getattr(builtins, name, None)
    if isinstance(found, type) and issubclass(found, Exception) and name not in _CONTROL_FLOW:
        return found
    return None


def _construct(shape: ErrorShape, name: str, message: str) -> BaseException:
    code = shape.get("code")
    if isinstance(code, str) and code in _revivers:
        return _revivers[code](shape)
    errors = shape.get("errors")
    if name in ("ExceptionGroup", "AggregateError") and isinstance(errors, list) and errors:
        if all(isinstance(error, Exception) for error in errors):
            return ExceptionGroup(message, errors)
    cls = _builtin_exception(name)
    if cls is not None and name != "ExceptionGroup":
        if issubclass(cls, KeyError) and len(message) >= 2 and message[0] == message[-1] == "'":
            message = message[1:-1]  # str(KeyError("k")) is "'k'": the key is inside the quotes
        try:
            return cls(message)
        except Exception:  # a built-in that needs other arguments (UnicodeDecodeError, ...)
            pass
    props = shape.get("props")
    stack = shape.get("stack")
    return SerializedError(
        name,
        message,
        stack=stack if isinstance(stack, str) else None,
        code=code if isinstance(code, str) else None,
        props=props if isinstance(props, dict) else None,
    )


def exception_from_shape(shape: ErrorShape) -> BaseException:
    """The exception an `Error` entry's shape stands for (see the module's docstring)."""
    name = shape.get("name")
    message = shape.get("message")
    exc = _construct(
        shape,
        name if isinstance(name, str) else "Error",
        message if isinstance(message, str) else "",
    )
    cause = shape.get("cause")
    if isinstance(cause, BaseException):
        exc.__cause__ = cause
    try:
        setattr(exc, _SHAPE_ATTR, shape)
    except AttributeError:  # a reviver's class with __slots__: written again from its own fields
        pass
    return exc
