"""The shared vectors of spec/vectors (docs/payloads.md): Python writes and reads exactly what the
TypeScript engine does, value by value and envelope by envelope."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from serde_support import comparable, from_notation, load_vectors

from stepwise._serde import (
    EncryptionKey,
    Keyring,
    PayloadCodec,
    PayloadDecryptionError,
    parse,
    stringify,
)
from stepwise._serde.encryption import derive_run_key
from stepwise._serde.payload import binding

VALUES: list[dict[str, Any]] = load_vectors("values.json")["values"]  # type: ignore[assignment]
ENVELOPES: dict[str, Any] = load_vectors("envelopes.json")
KEY = EncryptionKey.from_bytes(bytes.fromhex(ENVELOPES["key"]["hex"]))
SEALED = [e for e in ENVELOPES["envelopes"] if e["format"] == 3]


def test_the_vectors_are_there() -> None:
    assert len(VALUES) >= 20
    assert len(SEALED) >= 3


@pytest.mark.parametrize("vector", VALUES, ids=[v["name"] for v in VALUES])
def test_value_is_written_as_its_text(vector: dict[str, Any]) -> None:
    assert stringify(from_notation(vector["value"])) == vector["text"]


@pytest.mark.parametrize("vector", VALUES, ids=[v["name"] for v in VALUES])
def test_text_is_read_as_its_value(vector: dict[str, Any]) -> None:
    assert comparable(parse(vector["text"])) == comparable(from_notation(vector["value"]))


@pytest.mark.parametrize("vector", VALUES, ids=[v["name"] for v in VALUES])
def test_text_read_and_written_again_is_unchanged(vector: dict[str, Any]) -> None:
    assert stringify(parse(vector["text"])) == vector["text"]


def test_key_id_is_the_vectors() -> None:
    assert KEY.id == ENVELOPES["key"]["id"]


@pytest.mark.parametrize("vector", ENVELOPES["envelopes"], ids=[e["name"] for e in ENVELOPES["envelopes"]])
def test_envelope_is_rebuilt_byte_for_byte(vector: dict[str, Any]) -> None:
    expected = base64.b64decode(vector["bytes"])
    if vector["format"] == 1:
        sealed = PayloadCodec().seal(vector["text"], vector["place"], vector["runId"], False)
    else:
        assert derive_run_key(KEY, vector["runId"]).hex() == vector["runKey"]
        aad = bytes([3]) + bytes.fromhex(KEY.id) + binding(vector["runId"], vector["place"])
        assert aad.hex() == vector["aad"]
        codec = PayloadCodec(Keyring(KEY))
        sealed = codec.seal(vector["text"], vector["place"], vector["runId"], True, iv=bytes.fromhex(vector["iv"]))
    assert sealed == expected


@pytest.mark.parametrize("vector", ENVELOPES["envelopes"], ids=[e["name"] for e in ENVELOPES["envelopes"]])
def test_envelope_opens_to_its_text(vector: dict[str, Any]) -> None:
    data = base64.b64decode(vector["bytes"])
    encrypted = vector["format"] == 3
    assert PayloadCodec(Keyring(KEY)).open(data, vector["place"], vector["runId"], encrypted) == vector["text"]


@pytest.mark.parametrize("vector", SEALED, ids=[e["name"] for e in SEALED])
def test_every_changed_byte_is_refused(vector: dict[str, Any]) -> None:
    data = base64.b64decode(vector["bytes"])
    codec = PayloadCodec(Keyring(KEY))
    for position in range(1, len(data)):
        changed = bytearray(data)
        changed[position] ^= 0x01
        with pytest.raises(PayloadDecryptionError) as refused:
            codec.open(bytes(changed), vector["place"], vector["runId"], True)
        # A changed key id names a key this process lacks; anything else fails authentication.
        assert refused.value.reason == ("missing-key" if position <= 8 else "invalid")
        assert refused.value.run_id == vector["runId"]


@pytest.mark.parametrize("vector", SEALED, ids=[e["name"] for e in SEALED])
def test_another_place_another_run_or_another_key_is_refused(vector: dict[str, Any]) -> None:
    data = base64.b64decode(vector["bytes"])
    codec = PayloadCodec(Keyring(KEY))
    with pytest.raises(PayloadDecryptionError, match="fails authentication") as moved:
        codec.open(data, "run:output", vector["runId"], True)
    assert moved.value.place == "run:output"
    with pytest.raises(PayloadDecryptionError, match="fails authentication"):
        codec.open(data, vector["place"], vector["runId"] + "x", True)
    other = EncryptionKey.from_bytes(bytes(range(100, 132)))
    with pytest.raises(PayloadDecryptionError, match=f"key id {KEY.id}") as missing:
        PayloadCodec(Keyring(other)).open(data, vector["place"], vector["runId"], True)
    assert missing.value.reason == "missing-key"
    assert missing.value.key_id == KEY.id
    with pytest.raises(PayloadDecryptionError, match="STEPWISE_ENCRYPTION_KEY is not set"):
        PayloadCodec().open(data, vector["place"], vector["runId"], True)


@pytest.mark.parametrize("vector", SEALED, ids=[e["name"] for e in SEALED])
def test_truncated_payload_is_refused(vector: dict[str, Any]) -> None:
    data = base64.b64decode(vector["bytes"])
    codec = PayloadCodec(Keyring(KEY))
    for length in (1, 9, 20, 36, len(data) - 1):
        with pytest.raises(PayloadDecryptionError):
            codec.open(data[:length], vector["place"], vector["runId"], True)
