"""The distinct `undefined` of payloads.

TypeScript has two "no value" values, `null` and `undefined`, and a payload keeps them apart
(`null` is an entry, `undefined` the constant `-1`). Python has one, `None`, which stands for
`null`; `UNDEFINED` stands for `undefined`, so a value read from TypeScript is written back
exactly as it was read. It is falsy, a singleton (`x is UNDEFINED`), and survives `copy`,
`deepcopy` and `pickle` as itself.
"""

from __future__ import annotations

from typing import Final, final


@final
class UndefinedType:
    """The type of `UNDEFINED`, TypeScript's `undefined` in Python; it has one instance."""

    __slots__ = ()
    _instance: UndefinedType | None = None

    def __new__(cls) -> UndefinedType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False

    def __copy__(self) -> UndefinedType:
        return self

    def __deepcopy__(self, memo: object) -> UndefinedType:
        return self

    def __reduce__(self) -> str:
        return "UNDEFINED"


#: TypeScript's `undefined`: written as `-1`, and what `-1` (or an array hole) reads as.
UNDEFINED: Final = UndefinedType()
