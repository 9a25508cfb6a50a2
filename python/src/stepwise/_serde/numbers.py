"""Numbers as JavaScript writes and reads them.

The text holds numbers the way JavaScript's `String(number)` writes them (`1`, not `1.0`;
`1e+21`, not `1e21`; `0.000001` but `1e-7`), so Python writes byte for byte what TypeScript
writes. A TypeScript number is an IEEE double: a Python `int` within ±(2^53 - 1) is written as a
number and every other `int` as a BigInt entry; an integral number read back within that range is
an `int`, any other number a `float`.
"""

from __future__ import annotations

from typing import Final

#: `Number.MAX_SAFE_INTEGER`: the largest integer a double holds exactly, with its neighbours.
MAX_SAFE_INTEGER: Final = 2**53 - 1


def format_float(value: float) -> str:
    """`String(value)` in JavaScript, for a finite float (NaN, ±Infinity and -0 are constants)."""
    if value.is_integer() and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return str(int(value))
    text = repr(value)
    sign = ""
    if text[0] == "-":
        sign = "-"
        text = text[1:]
    # Python's repr is the shortest text that reads back as the same double, as JavaScript's
    # is; only the layout differs. Take its digits and decimal exponent and lay them out again.
    mantissa, _, exponent_text = text.partition("e")
    exponent = int(exponent_text) if exponent_text else 0
    whole, _, fraction = mantissa.partition(".")
    if fraction == "0":
        fraction = ""
    digits = (whole + fraction).lstrip("0")
    # The point sits after `point` digits of `digits` (value = 0.digits x 10^point).
    point = len(whole) + exponent - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0")
    count = len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    e = point - 1
    exp = ("+" if e >= 0 else "-") + str(abs(e))
    if count == 1:
        return sign + digits + "e" + exp
    return sign + digits[0] + "." + digits[1:] + "e" + exp


def read_number(value: int | float) -> int | float:
    """A number read from the text as Python holds it: `int` when integral and safe, else `float`."""
    if isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
        return float(value)
    if value.is_integer() and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return int(value)
    return value
