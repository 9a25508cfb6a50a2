"""Payload bytes as the engine stores them: the envelope around the text (docs/payloads.md §2).

    0x01 <utf-8 text>                                              plain
    0x02 <key id: 8> <iv: 12> <AES-256-GCM ciphertext> <tag: 16>   encrypted, bound to its run (read only)
    0x03 <key id: 8> <iv: 12> <AES-256-GCM ciphertext> <tag: 16>   encrypted, bound to its run and place

With a current key (`STEPWISE_ENCRYPTION_KEY`) every payload is written as 0x03; without one as
0x01, unless the run was created encrypted: then writing is refused (`PayloadConfigError`), never
downgraded to clear. Reading follows the run's record: in a run created encrypted a plain payload
is a forgery, and in a run of spec version 2 or later a 0x02 payload is a downgrade; both are
refused with a `PayloadDecryptionError`. Runs created without a key are read in clear and may
hold 0x03 payloads written after a key was set. Every payload a Python worker stores or reads
goes through one `PayloadCodec`, which also enforces the per-payload size limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final

from .encryption import SEAL_OVERHEAD, seal, sealed_key_id, unseal
from .errors import PayloadConfigError, PayloadDecryptionError, SerializationError
from .keys import KEY_ENV, Keyring
from .limits import DEFAULT_MAX_PAYLOAD_BYTES, check_payload_size, max_payload_bytes_from_env
from .places import describe_place

PLAIN: Final = 0x01
#: Encrypted, bound to the run only: written by spec version 1, still read in its runs.
ENCRYPTED_V1: Final = 0x02
#: Encrypted, bound to the run and the payload's place.
ENCRYPTED: Final = 0x03
#: The first spec version whose runs hold only 0x03 encrypted payloads.
BOUND_SINCE_SPEC: Final = 2
_BINDING: Final = b"stepwise/payload/v2\x00"
_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")

#: The one line a process prints when it stores payloads in clear (as the TypeScript engine does).
PLAINTEXT_NOTICE: Final = (
    f"[stepwise] {KEY_ENV} is not set: run inputs, step arguments and results, hook payloads and "
    "stream chunks are stored unencrypted. To encrypt them at rest, set it to 32 random bytes "
    "(generate one with: openssl rand -base64 32); see docs/security.md."
)


def binding(run_id: str, place: str) -> bytes:
    """What a 0x03 payload is bound to: "stepwise/payload/v2" NUL run id NUL place, in UTF-8."""
    return _BINDING + run_id.encode("utf-8") + b"\x00" + place.encode("utf-8")


def is_encrypted_payload(data: bytes) -> bool:
    """True when `data` is an encrypted payload (either format)."""
    return len(data) > 0 and data[0] in (ENCRYPTED, ENCRYPTED_V1)


def _utf8(text: str) -> bytes:
    """`text` in UTF-8; a lone surrogate (which `stringify` never writes) becomes U+FFFD, as in TypeScript."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", text).encode("utf-8")


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


class PayloadCodec:
    """Turns codec text into stored bytes for a place in a run (`seal`), and back (`open`).

    Build it from the environment (`PayloadCodec.from_env()`: `STEPWISE_ENCRYPTION_KEY`,
    `STEPWISE_ENCRYPTION_OLD_KEYS`, `STEPWISE_MAX_PAYLOAD_BYTES`) or from explicit keys
    (`PayloadCodec(Keyring(current, [old, ...]))`). `on_plaintext` is called whenever a payload
    is stored in clear (to say so once, with `PLAINTEXT_NOTICE`).
    """

    __slots__ = ("_keys", "_on_plaintext", "max_payload_bytes")

    def __init__(
        self,
        keys: Keyring | None = None,
        *,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        on_plaintext: Callable[[], None] | None = None,
    ) -> None:
        self._keys = keys if keys is not None else Keyring()
        self.max_payload_bytes = max_payload_bytes
        self._on_plaintext = on_plaintext

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, on_plaintext: Callable[[], None] | None = None
    ) -> PayloadCodec:
        """The codec the environment describes; `PayloadConfigError` when a setting is malformed."""
        return cls(
            Keyring.from_env(env),
            max_payload_bytes=max_payload_bytes_from_env(env),
            on_plaintext=on_plaintext,
        )

    @property
    def key_id(self) -> str | None:
        """The id of the key new payloads are encrypted with; None when they are stored in clear."""
        current = self._keys.current
        return None if current is None else current.id

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id this codec can decrypt (current first); empty without any key."""
        return self._keys.ids

    def seal(
        self,
        text: str,
        place: str,
        run_id: str,
        encrypted: bool,
        *,
        what: str | None = None,
        iv: bytes | None = None,
    ) -> bytes:
        """The stored bytes for `text` at `place` in run `run_id`.

        `encrypted` is the run's record (`RunRecord.encrypted`: created with a key). The payload
        is encrypted (0x03) when this codec has a current key, plain (0x01) otherwise, and then
        refused with `PayloadConfigError` when the run is encrypted. `PayloadTooLargeError` when
        the bytes would be over the per-payload limit; `what` names the payload in that message
        (default: the place in words). `iv` is for test vectors only; never pass it otherwise.
        """
        body = _utf8(text)
        current = self._keys.current
        size = len(body) + (SEAL_OVERHEAD if current is not None else 1)
        check_payload_size(size, self.max_payload_bytes, what or _capitalized(describe_place(place)))
        if current is not None:
            return seal(current, run_id, ENCRYPTED, body, binding(run_id, place), iv)
        if encrypted:
            raise PayloadConfigError(
                f"Run {run_id} was created with encryption on, and this process has no {KEY_ENV}: "
                f"it cannot store {describe_place(place)} in clear. Set {KEY_ENV} to the key the "
                "run's other processes use."
            )
        if self._on_plaintext is not None:
            self._on_plaintext()
        return bytes([PLAIN]) + body

    def open(
        self,
        data: bytes,
        place: str,
        run_id: str,
        encrypted: bool,
        spec_version: int = BOUND_SINCE_SPEC,
    ) -> str:
        """The text of bytes stored at `place` in run `run_id`.

        `encrypted` and `spec_version` are the run's record (`RunRecord.encrypted`,
        `RunRecord.specVersion`); a caller that does not know the spec version leaves the
        default, which refuses the older 0x02 format (no current writer produces it).
        `PayloadDecryptionError` when the bytes cannot be opened or are not what the run allows
        there; `SerializationError` for an unknown format.
        """
        data = bytes(data)
        fmt = data[0] if data else None
        described = describe_place(place)
        if fmt == ENCRYPTED:
            plain = unseal(
                self._keys, data, binding(run_id, place), run_id=run_id, place=place, described=described
            )
            return self._text(plain, run_id, place)
        if fmt == PLAIN:
            if encrypted:
                raise self._refuse(
                    run_id, place, None, "is stored in clear, but the run was created with encryption on."
                )
            return self._text(data[1:], run_id, place)
        if fmt == ENCRYPTED_V1:
            if spec_version >= BOUND_SINCE_SPEC:
                raise self._refuse(
                    run_id,
                    place,
                    sealed_key_id(data),
                    "is in the older encrypted format (0x02, not bound to its place), which runs "
                    "created by this version of Stepwise never hold.",
                )
            plain = unseal(self._keys, data, None, run_id=run_id, place=place, described=described)
            return self._text(plain, run_id, place)
        if encrypted:
            raise self._refuse(run_id, place, None, f"has no valid envelope (first byte {fmt}).")
        raise SerializationError(
            f"A payload of run {run_id} ({described}) has an unknown format (first byte {fmt}). It "
            "was written by a newer Stepwise or is corrupt; upgrade stepwise-workflows."
        )

    @staticmethod
    def _text(body: bytes, run_id: str, place: str) -> str:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise SerializationError(
                f"A payload of run {run_id} ({describe_place(place)}) is not UTF-8 text: it is damaged."
            ) from None

    @staticmethod
    def _refuse(run_id: str, place: str, key_id: str | None, why: str) -> PayloadDecryptionError:
        return PayloadDecryptionError(
            f"A payload of run {run_id} ({describe_place(place)}) {why} Someone who can write the "
            "database replaced it; nothing was read from it. Restore the run's data from a backup.",
            run_id=run_id,
            place=place,
            key_id=key_id,
        )
