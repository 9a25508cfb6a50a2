"""Deterministic ids and tokens of a run's calls, the same as the TypeScript engine derives.

A step, wait or hook id is a ULID-shaped string: the run's creation time (10 Crockford base32
characters) followed by 16 characters of HMAC-SHA256(seed, "<prefix>:<index>[:g<generation>]").
Every replay derives the same ids, nobody without the seed can guess them, and a run driven by a
Python worker has ids of the same shape as one driven by TypeScript (src/util/ids.ts).
"""

from __future__ import annotations

import hashlib
import os
import time
from functools import lru_cache
from typing import Literal

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

CallPrefix = Literal["step", "wait", "hook"]


def _base32(data: bytes, length: int) -> str:
    """The first `length` Crockford base32 digits of `data`'s bits, most significant first (the
    bits are read as one integer: a few shifts instead of a loop over bytes)."""
    bits = len(data) * 8
    length = min(length, bits // 5)  # as many whole digits as the data holds, as before
    value = int.from_bytes(data, "big")
    return "".join([CROCKFORD[(value >> (bits - 5 * (i + 1))) & 31] for i in range(length)])


def encode_time(epoch_ms: int, length: int = 10) -> str:
    """A time as ULID's leading characters: `length` Crockford base32 digits, most significant first."""
    if epoch_ms < 0:
        raise ValueError(f"a time must not be negative, got {epoch_ms}")
    chars: list[str] = []
    value = epoch_ms
    for _ in range(length):
        chars.append(CROCKFORD[value % 32])
        value //= 32
    return "".join(reversed(chars))


#: A run's creation time as the ids' leading characters: the same for every call of a run.
_run_time_part = lru_cache(maxsize=1024)(encode_time)


@lru_cache(maxsize=1024)
def _pads(seed: str) -> tuple[hashlib._Hash, hashlib._Hash]:
    """HMAC-SHA256's inner and outer hashes with the seed's key block already absorbed (RFC 2104):
    an id then costs two hash copies and two updates. A worker derives one id per call of the runs
    it drives, so the pads of recent runs' seeds are kept; `hmac.digest` set up the key and looked
    OpenSSL's algorithm up again on each call, which cost several times as much between steps."""
    key = seed.encode("utf-8")
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key))


def _mac(seed: str, text: str) -> bytes:
    """HMAC-SHA256(seed, text)."""
    inner_pad, outer_pad = _pads(seed)
    inner = inner_pad.copy()
    inner.update(text.encode("utf-8"))
    outer = outer_pad.copy()
    outer.update(inner.digest())
    return outer.digest()


def derived_id(prefix: CallPrefix, seed: str, run_created_at: int, index: int, generation: int = 1) -> str:
    """The id of the `index`-th call (from 0) of a run; calls after a restart mix in their generation."""
    text = f"{prefix}:{index}:g{generation}" if generation > 1 else f"{prefix}:{index}"
    return f"{prefix}_{_run_time_part(run_created_at)}{_base32(_mac(seed, text), 16)}"


def derived_token(seed: str, index: int) -> str:
    """The hook token of the `index`-th call when the workflow gives none: 160 bits, lower case."""
    return _base32(_mac(seed, f"token:{index}"), 32).lower()


def new_id(prefix: str) -> str:
    """A new random id, `<prefix>_<ULID>` (the time now and 80 random bits), as the TypeScript
    engine's `newId` makes them (e.g. the id of a workflow's stored console output, `log_…`)."""
    return f"{prefix}_{encode_time(time.time_ns() // 1_000_000)}{_base32(os.urandom(10), 16)}"
