"""JSON string literals exactly as devalue writes them.

devalue escapes `"`, `\\`, control characters (`\\n`, `\\u001b`, ...), and also `<`, U+2028 and
U+2029; everything else is written as itself. A lone surrogate (a Python `str` can hold one, and
TypeScript strings cut inside a pair do) is written as a `\\u` escape so the text stays valid UTF-8.
"""

from __future__ import annotations

import json.encoder
import re
from collections.abc import Callable
from typing import Final

# The C implementation when the interpreter has it (CPython does): it escapes `"`, `\` and
# control characters as devalue does and leaves the rest alone.
_encode_basestring: Final[Callable[[str], str]] = json.encoder.encode_basestring

_SPECIAL: Final = re.compile("[<\u2028\u2029\ud800-\udfff]")
_SPECIAL_ESCAPES: Final = {"<": "\\u003C", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _SPECIAL_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def quote(text: str) -> str:
    """`text` as a JSON string literal, escaped as devalue escapes it."""
    quoted = _encode_basestring(text)
    if _SPECIAL.search(text) is None:
        return quoted
    return _SPECIAL.sub(_escape, quoted)
