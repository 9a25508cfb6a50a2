"""The per-step helpers the benchmark made cheaper keep their results: derived ids and tokens equal
the TypeScript engine's (values computed with src/util/ids.ts) and the HMAC under them equals the
standard library's for any seed; argument binding behaves the same on the first call of a function
as on later ones (its signature is cached); base64 fields of answers are read as strictly as
before."""

from __future__ import annotations

import base64
import gc
import hmac
import inspect
from collections.abc import Callable

import pytest

from stepwise._engine import call_args
from stepwise._engine.call_args import bind_call, call_with
from stepwise._engine.ids import _base32, _mac, derived_id, derived_token
from stepwise._protocol.wire import WireFormatError, b64decode

# prefix, seed, run created at (ms), index, generation, what src/util/ids.ts derives
IDS = [
    ("step", "0123456789abcdef0123456789abcdef", 1700000000000, 0, 1, "step_01HF7YAT00DKBT6HSFG8JM7PYR"),
    ("wait", "seed-x", 1796552993741, 7, 1, "wait_01M95EEAYDC5XG6198RTS4AQ2J"),
    ("hook", "ffeeddccbbaa99887766554433221100", 0, 123456, 3, "hook_0000000000M0Y2SS31FA9PVKA8"),
    ("step", "s", 281474976710655, 42, 2, "step_7ZZZZZZZZZF6TTCX6CZD9FCRKC"),
]  # fmt: skip
TOKENS = [
    ("seed-x", 0, "rjs2hp18dj50mb5706zc6t009csnmjgz"),
    ("0123456789abcdef0123456789abcdef", 99, "qm4h5jwcerjtm0qvm6ww1y6fk0pmntyh"),
]


@pytest.mark.parametrize(("prefix", "seed", "created_at", "index", "generation", "expected"), IDS)
def test_derived_ids_are_the_typescript_engines(
    prefix: str, seed: str, created_at: int, index: int, generation: int, expected: str
) -> None:
    assert derived_id(prefix, seed, created_at, index, generation) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("seed", "index", "expected"), TOKENS)
def test_derived_tokens_are_the_typescript_engines(seed: str, index: int, expected: str) -> None:
    assert derived_token(seed, index) == expected


def test_base32_gives_as_many_whole_digits_as_the_data_holds() -> None:
    assert _base32(b"\xff", 4) == "Z"  # 8 bits: one whole digit
    assert _base32(bytes(10), 16) == "0" * 16
    assert _base32(b"\x08\x42\x10\x84\x21", 8) == "11111111"


@pytest.mark.parametrize("seed", ["", "s", "seed-x", "k" * 64, "k" * 65, "é" * 40, "0123456789abcdef" * 8])
def test_the_mac_is_hmac_sha256_for_seeds_of_any_length(seed: str) -> None:
    for text in ("step:0", "hook:123:g4", "token:9", ""):
        assert _mac(seed, text) == hmac.digest(seed.encode(), text.encode(), "sha256")


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x01[4]", bytes(range(256))])
def test_base64_fields_decode(data: bytes) -> None:
    assert b64decode(base64.b64encode(data).decode(), "payload") == data


@pytest.mark.parametrize("text", ["AVs0XQ", "AVs0XQ===", "AV s0XQ==", "AVs0XQ==AA", "@@@@", "AVs0XQ=\n=", 7, None])
def test_base64_fields_that_are_not_base64_are_refused(text: object) -> None:
    with pytest.raises(WireFormatError, match="payload"):
        b64decode(text, "payload")


def test_binding_is_the_same_on_the_first_and_later_calls() -> None:
    def step(a: int, *, b: str = "x") -> str:
        return f"{a}{b}"

    for _ in range(3):
        assert bind_call(step, [1, {"b": "y"}]) == ([1], {"b": "y"})
        assert bind_call(step, [2]) == ([2], {})
        assert call_with(step, [3, {"b": "z"}]) == "3z"
        with pytest.raises(TypeError, match="cannot be called with the arguments"):
            bind_call(step, [1, 2, 3])


def _bound_by_signature(fn: Callable[..., object], values: list[object]) -> tuple[list[object], dict[str, object]] | str:
    """What binding gives when it asks `inspect.Signature.bind` every time (no shortcut)."""
    signature = inspect.signature(fn)
    if values and isinstance(values[-1], dict) and all(isinstance(k, str) for k in values[-1]):
        trailing = dict(values[-1])
        if all(k in signature.parameters and signature.parameters[k].kind is not inspect.Parameter.POSITIONAL_ONLY for k in trailing):
            try:
                signature.bind(*values[:-1], **trailing)
                return values[:-1], trailing
            except TypeError:
                pass
    try:
        signature.bind(*values)
        return values, {}
    except TypeError:
        return "TypeError"


def f0() -> None: ...
def f1(a: int) -> None: ...
def f2(a: int, b: int = 2) -> None: ...
def f3(a: int, /, b: int, *, c: int) -> None: ...
def f4(a: int, *rest: int) -> None: ...
def f5(*, c: int = 3) -> None: ...
def f6(a: int, **kw: int) -> None: ...
def f7(a: int = 1, /, *args: int, k: int = 0, **kw: int) -> None: ...
async def f8(a: dict[str, int], b: int = 0) -> None: ...


@pytest.mark.parametrize("fn", [f0, f1, f2, f3, f4, f5, f6, f7, f8])
def test_binding_matches_the_signature_for_every_shape(fn: Callable[..., object]) -> None:
    candidates: list[list[object]] = [
        [], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4], [{"c": 1}], [1, {"c": 1}], [1, {"b": 2}], [1, 2, {"c": 3}],
        [{"a": 1}], [{"x": 1}], [{}], [1, {}], [{"a": 1}, {"b": 2}], [{1: 2}], [1, {"k": 1, "z": 2}],
    ]  # fmt: skip
    for values in candidates:
        expected = _bound_by_signature(fn, values)
        try:
            got: object = bind_call(fn, values)
        except TypeError:
            got = "TypeError"
        assert got == expected, (fn.__name__, values)


def test_callables_without_a_signature_or_a_weak_reference_still_bind() -> None:
    assert bind_call(print, [1, 2]) == ([1, 2], {})  # a builtin: no weak reference to it
    assert call_with(len, [[1, 2, 3]]) == 3


def test_functions_declared_per_run_do_not_stay_in_the_cache() -> None:
    def declare() -> None:
        def closure(x: int) -> int:
            return x

        assert call_with(closure, [5]) == 5

    before = len(call_args._shapes)
    for _ in range(50):
        declare()
    gc.collect()
    assert len(call_args._shapes) <= before + 1
