"""Encryption keys, read as the TypeScript engine reads them (src/serde/keys.ts).

`STEPWISE_ENCRYPTION_KEY` is the current key (every new payload is encrypted with it);
`STEPWISE_ENCRYPTION_OLD_KEYS` lists earlier keys, comma-separated, which only decrypt. A key is 32
random bytes written as base64 (44 characters with padding, 43 without; the URL-safe alphabet
works too) or hex (64 characters): `openssl rand -base64 32`. Anything else, or bytes that are
plainly not random (a repeated pattern, printable text), is an `PayloadConfigError` saying how
to make a key. An empty variable counts as unset.

A key's id is the first 8 bytes of HMAC-SHA256(key, "stepwise/key-id/v1"), shown as 16 hex
digits: it is written into every payload the key encrypts, so after a rotation each payload names
the key it needs, and it can be logged without revealing anything about the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from .errors import PayloadConfigError

KEY_ENV: Final = "STEPWISE_ENCRYPTION_KEY"
OLD_KEYS_ENV: Final = "STEPWISE_ENCRYPTION_OLD_KEYS"
KEY_BYTES: Final = 32
KEY_ID_BYTES: Final = 8
GENERATE_KEY_HINT: Final = "Generate one with: openssl rand -base64 32"

_HEX: Final = re.compile(r"[0-9a-fA-F]{64}")
_BASE64: Final = re.compile(r"[A-Za-z0-9+/]{43}=?")
_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]{43}=?")


@dataclass(frozen=True, slots=True)
class EncryptionKey:
    """One master key: its id (16 hex digits) and its secret bytes (never printed)."""

    id: str
    secret: bytes = field(repr=False)

    @classmethod
    def from_bytes(cls, secret: bytes) -> EncryptionKey:
        """The key for 32 secret bytes (no strength check: tests and tools that hold raw bytes)."""
        if len(secret) != KEY_BYTES:
            raise PayloadConfigError(
                f"An encryption key is {KEY_BYTES} bytes; these are {len(secret)}. {GENERATE_KEY_HINT}"
            )
        return cls(key_id_of(secret), bytes(secret))


def key_id_of(secret: bytes) -> str:
    """The id of a key: 16 hex digits that name it without revealing it."""
    return hmac.new(secret, b"stepwise/key-id/v1", hashlib.sha256).digest()[:KEY_ID_BYTES].hex()


def _decode_key_text(text: str) -> bytes | None:
    try:
        if _HEX.fullmatch(text):
            return bytes.fromhex(text)
        padded = text if text.endswith("=") else text + "="
        if _BASE64.fullmatch(text):
            return base64.b64decode(padded, validate=True)
        if _BASE64URL.fullmatch(text):
            return base64.urlsafe_b64decode(padded)
    except (ValueError, binascii.Error):
        return None
    return None


def _weakness(secret: bytes) -> str | None:
    distinct = len(set(secret))
    if distinct < 16:
        return (
            f"its {KEY_BYTES} bytes take only {distinct} distinct value(s), which random bytes "
            "practically never do (it looks like a pattern or a placeholder)"
        )
    if all(0x20 <= byte < 0x7F for byte in secret):
        return "its bytes are all printable characters: it is text (a password?), not random bytes"
    return None


def parse_encryption_key(text: str, source: str) -> EncryptionKey:
    """One key from its text; `source` names where it came from in errors (never the key itself)."""
    trimmed = text.strip()
    secret = _decode_key_text(trimmed)
    if secret is None or len(secret) != KEY_BYTES:
        raise PayloadConfigError(
            f"{source} is not a valid encryption key: it must be {KEY_BYTES} random bytes written as "
            f"base64 (44 characters) or hex (64 characters), and it is {len(trimmed)} characters "
            f"that are neither. {GENERATE_KEY_HINT}"
        )
    weak = _weakness(secret)
    if weak is not None:
        raise PayloadConfigError(f"{source} is too weak to be an encryption key: {weak}. {GENERATE_KEY_HINT}")
    return EncryptionKey(key_id_of(secret), secret)


class Keyring:
    """The keys a process holds: the one that encrypts (`current`), and every one that decrypts."""

    __slots__ = ("_by_id", "current")

    def __init__(self, current: EncryptionKey | None = None, old: Sequence[EncryptionKey] = ()) -> None:
        self.current = current
        self._by_id: dict[str, EncryptionKey] = {}
        for key in [*([current] if current is not None else []), *old]:
            self._by_id.setdefault(key.id, key)

    def get(self, key_id: str) -> EncryptionKey | None:
        """The key with this id (current or old), if configured."""
        return self._by_id.get(key_id)

    @property
    def ids(self) -> tuple[str, ...]:
        """Every configured key id, current first."""
        return tuple(self._by_id)

    def __repr__(self) -> str:
        return f"Keyring(ids={list(self._by_id)!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Keyring:
        """The keys `STEPWISE_ENCRYPTION_KEY` and `STEPWISE_ENCRYPTION_OLD_KEYS` describe."""
        source = os.environ if env is None else env
        current_text = source.get(KEY_ENV, "").strip()
        current = parse_encryption_key(current_text, KEY_ENV) if current_text else None
        old = [
            parse_encryption_key(text, f"{OLD_KEYS_ENV} entry {position + 1}")
            for position, text in enumerate(source.get(OLD_KEYS_ENV, "").split(","))
            if text.strip()
        ]
        return cls(current, old)
