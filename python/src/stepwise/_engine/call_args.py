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


def encode_call(args: tuple[object, ...], kwargs: Mapping[str, object]) -> list[object]:
    """The argument list stored for a call."""
    values = list(args)
    if kwargs:
        values.append(dict(kwargs))
    return values


#: `inspect.signature` of the functions called so far (it costs more than the call it checks, and
#: a worker calls the same few step functions again and again); None for those without one. Weak:
#: a function declared per run (Cloudflare's `step.do` closures) leaves with its run.
_signatures: weakref.WeakKeyDictionary[Callable[..., object], inspect.Signature | None] = (
    weakref.WeakKeyDictionary()
)


def _signature(fn: Callable[..., object]) -> inspect.Signature | None:
    try:
        return _signatures[fn]
    except KeyError:
        pass
    except TypeError:  # not weakly referable, or unhashable: not cached
        return _signature_of(fn)
    signature = _signature_of(fn)
    try:
        _signatures[fn] = signature
    except TypeError:
        pass
    return signature


def _signature_of(fn: Callable[..., object]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def bind_call(fn: Callable[..., object], values: list[object]) -> tuple[list[object], dict[str, object]]:
    """Positional and keyword arguments for `fn` from a stored argument list."""
    signature = _signature(fn)
    if signature is None:
        return values, {}
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
