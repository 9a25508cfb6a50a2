"""AES-256-GCM for payloads, with a key per run (docs/payloads.md §5).

HKDF-SHA256 derives each run's key from the master key (empty salt, info "stepwise/payload/v1"
NUL run id), so a payload only opens under the run it was written for and a leaked run key
exposes one run. After the envelope's format byte, a sealed payload is

    <key id: 8 bytes> <iv: 12 random bytes> <ciphertext> <tag: 16 bytes>

and the additional data is the format byte and key id, followed by the payload's binding when
the format has one (0x03: "stepwise/payload/v2" NUL run id NUL place). An altered byte anywhere,
or a payload read as another run's or at another place, fails with a `PayloadDecryptionError`,
never garbage. Derived run keys are cached (a few thousand runs): deriving costs more than
encrypting a small payload.
"""

from __future__ import annotations

import os
import threading
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import PayloadDecryptionError
from .keys import KEY_ENV, KEY_ID_BYTES, OLD_KEYS_ENV, EncryptionKey, Keyring

IV_BYTES: Final = 12
TAG_BYTES: Final = 16
#: Bytes a sealed payload adds to its text, the format byte included.
SEAL_OVERHEAD: Final = 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES
_INFO: Final = b"stepwise/payload/v1\x00"
_CACHE_ENTRIES: Final = 4096

_run_ciphers: dict[tuple[str, str], AESGCM] = {}
_cache_lock: Final = threading.Lock()


def derive_run_key(key: EncryptionKey, run_id: str) -> bytes:
    """The run's own 32-byte key: HKDF-SHA256(key, salt = empty, info = v1 NUL run id)."""
    hkdf = HKDF(algorithm=SHA256(), length=32, salt=None, info=_INFO + run_id.encode("utf-8"))
    return hkdf.derive(key.secret)


def _run_cipher(key: EncryptionKey, run_id: str) -> AESGCM:
    cache_key = (key.id, run_id)
    cipher = _run_ciphers.get(cache_key)
    if cipher is None:
        cipher = AESGCM(derive_run_key(key, run_id))
        with _cache_lock:  # steps may run in threads: evict and insert as one
            if len(_run_ciphers) >= _CACHE_ENTRIES:
                del _run_ciphers[next(iter(_run_ciphers))]
            _run_ciphers[cache_key] = cipher
    return cipher


def seal(
    key: EncryptionKey,
    run_id: str,
    fmt: int,
    plaintext: bytes,
    binding: bytes | None,
    iv: bytes | None = None,
) -> bytes:
    """The whole payload: `fmt`, the key id, a fresh IV, the ciphertext and its tag.

    `binding` is authenticated too and must be given again to `unseal`. `iv` is for test vectors
    only: a payload's IV must never be reused, so leave it to the fresh random default.
    """
    header = bytes([fmt]) + bytes.fromhex(key.id)
    nonce = os.urandom(IV_BYTES) if iv is None else iv
    aad = header if binding is None else header + binding
    return header + nonce + _run_cipher(key, run_id).encrypt(nonce, plaintext, aad)


def sealed_key_id(payload: bytes) -> str | None:
    """The key id a sealed payload names, or None when it is too short to name one."""
    if len(payload) < 1 + KEY_ID_BYTES:
        return None
    return payload[1 : 1 + KEY_ID_BYTES].hex()


def _describe_keys(keys: Keyring) -> str:
    ids = keys.ids
    if not ids:
        return f"it has no key: {KEY_ENV} is not set"
    old = ids if keys.current is None else ids[1:]
    current = "no current key" if keys.current is None else f"current {keys.current.id}"
    return f"it has {current}, {'old ' + ', '.join(old) if old else 'no old keys'}"


def unseal(
    keys: Keyring,
    payload: bytes,
    binding: bytes | None,
    *,
    run_id: str,
    place: str | None,
    described: str | None,
) -> bytes:
    """The plaintext of a payload `seal` wrote for `run_id` with the same `binding`.

    `PayloadDecryptionError` (naming the run, the place and the key id) on any failure.
    """
    where = "" if described is None else f" ({described})"
    key_id = sealed_key_id(payload)
    header_bytes = 1 + KEY_ID_BYTES
    if key_id is None or len(payload) < header_bytes + IV_BYTES + TAG_BYTES:
        raise PayloadDecryptionError(
            f"An encrypted payload of run {run_id}{where} is truncated ({len(payload)} bytes): the "
            "stored data is damaged.",
            run_id=run_id,
            place=place,
            key_id=key_id,
        )
    key = keys.get(key_id)
    if key is None:
        raise PayloadDecryptionError(
            f"A payload of run {run_id}{where} is encrypted with key id {key_id}, which this "
            f"process does not have ({_describe_keys(keys)}). Set {KEY_ENV} to that key, or add it "
            f"to {OLD_KEYS_ENV} (comma-separated) if it was rotated out.",
            run_id=run_id,
            place=place,
            key_id=key_id,
            reason="missing-key",
        )
    header = payload[:header_bytes]
    nonce = payload[header_bytes : header_bytes + IV_BYTES]
    aad = header if binding is None else header + binding
    try:
        return _run_cipher(key, run_id).decrypt(nonce, payload[header_bytes + IV_BYTES :], aad)
    except InvalidTag:
        moved = "copied from another run" if binding is None else "moved from another run or another place"
        raise PayloadDecryptionError(
            f"A payload of run {run_id}{where} (key id {key_id}) fails authentication: it was "
            f"altered, damaged, or {moved}. Nothing was read from it.",
            run_id=run_id,
            place=place,
            key_id=key_id,
        ) from None
