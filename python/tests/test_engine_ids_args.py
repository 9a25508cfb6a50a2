"""The per-step helpers the benchmark made cheaper keep their results: derived ids and tokens equal
the TypeScript engine's (values computed with src/util/ids.ts), and argument binding behaves the
same on the first call of a function as on later ones (its signature is cached)."""

from __future__ import annotations

import gc

import pytest

from stepwise._engine import call_args
from stepwise._engine.call_args import bind_call, call_with
from stepwise._engine.ids import derived_id, derived_token

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


def test_binding_is_the_same_on_the_first_and_later_calls() -> None:
    def step(a: int, *, b: str = "x") -> str:
        return f"{a}{b}"

    for _ in range(3):
        assert bind_call(step, [1, {"b": "y"}]) == ([1], {"b": "y"})
        assert bind_call(step, [2]) == ([2], {})
        assert call_with(step, [3, {"b": "z"}]) == "3z"
        with pytest.raises(TypeError, match="cannot be called with the arguments"):
            bind_call(step, [1, 2, 3])


def test_callables_without_a_signature_or_a_weak_reference_still_bind() -> None:
    assert bind_call(print, [1, 2]) == ([1, 2], {})  # a builtin: no weak reference to it
    assert call_with(len, [[1, 2, 3]]) == 3


def test_functions_declared_per_run_do_not_stay_in_the_cache() -> None:
    def declare() -> None:
        def closure(x: int) -> int:
            return x

        assert call_with(closure, [5]) == 5

    before = len(call_args._signatures)
    for _ in range(50):
        declare()
    gc.collect()
    assert len(call_args._signatures) <= before + 1
