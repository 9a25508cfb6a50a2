"""How arguments travel: a call's positional arguments as a list, and its keyword arguments as one
trailing plain object (as the Vercel SDKs do), so a TypeScript caller passes `[{ topic: "x" }]`
for `topic="x"`.

On the way in, a trailing dict with string keys is taken as keyword arguments when the function
accepts them that way (binding succeeds and each key names one of its parameters); otherwise the
list is passed positionally. A call that fits neither way is a `TypeError` naming the function,
what it takes and what it was given.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass


def encode_call(args: tuple[object, ...], kwargs: Mapping[str, object]) -> list[object]:
    """The argument list stored for a call."""
    values = list(args)
    if kwargs:
        values.append(dict(kwargs))
    return values


@dataclass(frozen=True, slots=True)
class _Shape:
    """A function's signature, and what a purely positional call must give it: at least `least`
    values, at most `most` (None: it takes *args), and no keyword-only parameter without a default
    (`plain`). A call that fits binds as `signature.bind` would, without running it."""

    signature: inspect.Signature
    least: int
    most: int | None
    plain: bool


def _shape_of(signature: inspect.Signature) -> _Shape:
    least = 0
    most: int | None = 0
    plain = True
    for parameter in signature.parameters.values():
        if parameter.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            if most is not None:
                most += 1
            if parameter.default is inspect.Parameter.empty:
                least += 1
        elif parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            most = None
        elif parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.default is inspect.Parameter.empty:
            plain = False
    return _Shape(signature, least, most, plain)


#: The shapes of the functions called so far (`inspect.signature` costs more than the call it
#: checks, and a worker calls the same few step functions again and again); None for those
#: without a signature. Weak: a function declared per run (Cloudflare's `step.do` closures) leaves
#: with its run.
_shapes: weakref.WeakKeyDictionary[Callable[..., object], _Shape | None] = weakref.WeakKeyDictionary()


def _shape(fn: Callable[..., object]) -> _Shape | None:
    try:
        return _shapes[fn]
    except KeyError:
        pass
    except TypeError:  # not weakly referable, or unhashable: not cached
        return _new_shape(fn)
    shape = _new_shape(fn)
    try:
        _shapes[fn] = shape
    except TypeError:
        pass
    return shape


def _new_shape(fn: Callable[..., object]) -> _Shape | None:
    try:
        return _shape_of(inspect.signature(fn))
    except (TypeError, ValueError):
        return None


def bind_call(fn: Callable[..., object], values: list[object]) -> tuple[list[object], dict[str, object]]:
    """Positional and keyword arguments for `fn` from a stored argument list."""
    shape = _shape(fn)
    if shape is None:
        return values, {}
    if not values or not isinstance(values[-1], dict):
        # No trailing object: the values bind positionally or not at all.
        if shape.plain and shape.least <= len(values) and (shape.most is None or len(values) <= shape.most):
            return values, {}
    signature = shape.signature
    parameters = signature.parameters
    if values and isinstance(values[-1], dict) and all(isinstance(key, str) for key in values[-1]):
        trailing: dict[str, object] = dict(values[-1])
        named = all(
            key in parameters and parameters[key].kind is not inspect.Parameter.POSITIONAL_ONLY for key in trailing
        )
        if named:
            try:
                signature.bind(*values[:-1], **trailing)
                return values[:-1], trailing
            except TypeError:
                pass
    try:
        signature.bind(*values)
        return values, {}
    except TypeError as error:
        raise TypeError(
            f"{getattr(fn, '__qualname__', fn)}{signature} cannot be called with the arguments "
            f"{values!r}: {error}. Positional arguments travel as a list and keyword arguments as "
            "one trailing object ({\"name\": value})."
        ) from None


def call_with(fn: Callable[..., object], values: list[object]) -> object:
    """Calls `fn` with a stored argument list (see `bind_call`)."""
    args, kwargs = bind_call(fn, values)
    return fn(*args, **kwargs)
