"""The engine's ports (`ports.py`) on the real payload format (`stepwise._serde`)."""

from __future__ import annotations

from .._serde import PayloadCodec, SerializationError, parse, stringify


class BoundPayloads:
    """A `PayloadCodec` bound to one run: its id, whether it was created encrypted, its spec version."""

    __slots__ = ("_codec", "_run_id", "_encrypted", "_spec_version")

    def __init__(self, codec: PayloadCodec, run_id: str, encrypted: bool, spec_version: int) -> None:
        self._codec = codec
        self._run_id = run_id
        self._encrypted = encrypted
        self._spec_version = spec_version

    def seal(self, place: str, text: str, what: str) -> bytes:
        return self._codec.seal(text, place, self._run_id, self._encrypted, what=what)

    def open(self, place: str, data: bytes) -> str:
        return self._codec.open(data, place, self._run_id, self._encrypted, self._spec_version)


class SerdeValues:
    """Values and errors as codec text, with `stringify` and `parse`."""

    __slots__ = ()

    def stringify(self, value: object) -> str:
        return stringify(value)

    def parse(self, text: str) -> object:
        return parse(text)

    def error_text(self, error: BaseException) -> str:
        """An exception's Error entry; one that cannot be written becomes its type and message."""
        try:
            return stringify(error, root="error")
        except SerializationError:
            fallback = RuntimeError(f"{type(error).__name__}: {error}")
            return stringify(fallback, root="error")

    def error_from(self, text: str) -> BaseException:
        value = parse(text)
        if isinstance(value, BaseException):
            return value
        return RuntimeError(f"the workflow raised a value that is not an exception: {value!r}")
