"""Payload envelopes and encryption in Python (docs/payloads.md §2, §5–§7): keys from the
environment in the forms TypeScript accepts, rotation, the encrypted-run rules, the older 0x02
format, and the per-payload limit."""

from __future__ import annotations

import base64
import os

import pytest

from stepwise._serde import (
    EncryptionKey,
    Keyring,
    PayloadCodec,
    PayloadConfigError,
    PayloadDecryptionError,
    PayloadTooLargeError,
    SerializationError,
    is_encrypted_payload,
    parse,
    parse_encryption_key,
    places,
    stringify,
)
from stepwise._serde.encryption import seal
from stepwise._serde.payload import ENCRYPTED_V1

SECRET = bytes.fromhex("030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dc")
KEY_ID = "e43d6f31954bd2e1"
RUN = "wrun_codec_1"


def test_a_key_is_read_from_hex_base64_and_base64url_with_or_without_padding() -> None:
    forms = [
        SECRET.hex(),
        SECRET.hex().upper(),
        base64.b64encode(SECRET).decode(),
        base64.b64encode(SECRET).decode().rstrip("="),
        base64.urlsafe_b64encode(SECRET).decode(),
        "  " + base64.urlsafe_b64encode(SECRET).decode().rstrip("=") + "\n",
    ]
    for text in forms:
        key = parse_encryption_key(text, "STEPWISE_ENCRYPTION_KEY")
        assert (key.id, key.secret) == (KEY_ID, SECRET), text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("hunter2", "7 characters that are neither"),
        (base64.b64encode(bytes(16)).decode(), "neither"),
        ("00" * 32, "only 1 distinct value"),
        (base64.b64encode(b"Tr0ub4dor&3 plus: zW!qX?kJ#mY%vB").decode(), "printable characters"),
    ],
)
def test_a_malformed_or_weak_key_is_refused_without_repeating_it(text: str, says: str) -> None:
    with pytest.raises(PayloadConfigError, match=says) as refused:
        PayloadCodec.from_env({"STEPWISE_ENCRYPTION_KEY": text})
    assert text not in str(refused.value)
    assert "openssl rand -base64 32" in str(refused.value)
    assert refused.value.code == "CONFIG"


def test_the_environment_gives_the_current_key_and_the_old_ones() -> None:
    old = os.urandom(32)
    env = {
        "STEPWISE_ENCRYPTION_KEY": SECRET.hex(),
        "STEPWISE_ENCRYPTION_OLD_KEYS": f" {base64.b64encode(old).decode()} ,, {SECRET.hex()}",
    }
    codec = PayloadCodec.from_env(env)
    assert codec.key_id == KEY_ID
    assert codec.key_ids == (KEY_ID, EncryptionKey.from_bytes(old).id)
    assert PayloadCodec.from_env({"STEPWISE_ENCRYPTION_KEY": "  "}).key_id is None
    with pytest.raises(PayloadConfigError, match="STEPWISE_ENCRYPTION_OLD_KEYS entry 2"):
        PayloadCodec.from_env({"STEPWISE_ENCRYPTION_OLD_KEYS": f"{SECRET.hex()},short"})


def test_a_rotated_key_still_opens_what_it_sealed_and_new_payloads_use_the_new_key() -> None:
    old_key = EncryptionKey.from_bytes(SECRET)
    new_key = EncryptionKey.from_bytes(os.urandom(32))
    place = places.step_result("step_1")
    sealed_before = PayloadCodec(Keyring(old_key)).seal('["before"]', place, RUN, True)
    rotated = PayloadCodec(Keyring(new_key, [old_key]))
    assert rotated.open(sealed_before, place, RUN, True) == '["before"]'
    sealed_after = rotated.seal('["after"]', place, RUN, True)
    assert sealed_after[1:9].hex() == new_key.id
    with pytest.raises(PayloadDecryptionError, match="STEPWISE_ENCRYPTION_OLD_KEYS") as missing:
        PayloadCodec(Keyring(new_key)).open(sealed_before, place, RUN, True)
    assert missing.value.reason == "missing-key"


def test_every_payload_gets_a_fresh_iv() -> None:
    codec = PayloadCodec(Keyring(EncryptionKey.from_bytes(SECRET)))
    sealed = {codec.seal('["same"]', places.RUN_INPUT, RUN, True) for _ in range(50)}
    assert len(sealed) == 50
    assert {payload[9:21] for payload in sealed}.__len__() == 50


def test_without_a_key_payloads_are_plain_and_the_codec_says_so() -> None:
    said: list[str] = []
    codec = PayloadCodec(on_plaintext=lambda: said.append("plain"))
    data = codec.seal('["x"]', places.RUN_OUTPUT, RUN, False)
    assert data == b'\x01["x"]'
    assert not is_encrypted_payload(data)
    assert said == ["plain"]
    assert codec.open(data, places.RUN_OUTPUT, RUN, False) == '["x"]'


def test_an_encrypted_run_is_never_written_in_clear() -> None:
    with pytest.raises(PayloadConfigError, match="created with encryption on") as refused:
        PayloadCodec().seal('["secret"]', places.step_args("step_9"), RUN, True)
    assert "the arguments of step step_9" in str(refused.value)


def test_a_plain_payload_in_an_encrypted_run_is_a_forgery() -> None:
    codec = PayloadCodec(Keyring(EncryptionKey.from_bytes(SECRET)))
    with pytest.raises(PayloadDecryptionError, match="stored in clear") as refused:
        codec.open(b'\x01["forged"]', places.RUN_INPUT, RUN, True)
    assert refused.value.place == places.RUN_INPUT


def test_a_run_without_encryption_reads_encrypted_payloads_written_after_a_key_was_set() -> None:
    codec = PayloadCodec(Keyring(EncryptionKey.from_bytes(SECRET)))
    data = codec.seal('["later"]', places.RUN_OUTPUT, RUN, False)
    assert is_encrypted_payload(data)
    assert codec.open(data, places.RUN_OUTPUT, RUN, False) == '["later"]'


def test_the_older_run_bound_format_is_read_only_in_runs_of_spec_version_1() -> None:
    key = EncryptionKey.from_bytes(SECRET)
    old_format = seal(key, RUN, ENCRYPTED_V1, b'["v1"]', None)
    codec = PayloadCodec(Keyring(key))
    assert codec.open(old_format, places.RUN_INPUT, RUN, True, spec_version=1) == '["v1"]'
    with pytest.raises(PayloadDecryptionError, match="older encrypted format"):
        codec.open(old_format, places.RUN_INPUT, RUN, True)
    with pytest.raises(PayloadDecryptionError, match="copied from another run"):
        codec.open(old_format, places.RUN_INPUT, "wrun_other", True, spec_version=1)


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(SerializationError, match="unknown format \\(first byte 9\\)"):
        PayloadCodec().open(b"\x09abc", places.RUN_INPUT, RUN, False)
    with pytest.raises(PayloadDecryptionError, match="no valid envelope"):
        PayloadCodec().open(b"", places.RUN_INPUT, RUN, True)


def test_a_payload_over_the_limit_is_refused_with_its_size_and_what_to_do() -> None:
    codec = PayloadCodec.from_env({"STEPWISE_MAX_PAYLOAD_BYTES": "1024"})
    text = stringify("x" * 1020)
    with pytest.raises(PayloadTooLargeError) as refused:
        codec.seal(text, places.step_result("step_2"), RUN, False)
    assert (refused.value.size, refused.value.limit) == (len(text) + 1, 1024)
    message = str(refused.value)
    assert message.startswith("The result of step step_2 is 1.0 KB, over the 1.0 KB limit per payload")
    assert "STEPWISE_MAX_PAYLOAD_BYTES" in message and "pass a reference" in message
    assert codec.seal(stringify("x" * 1000), places.RUN_INPUT, RUN, False)  # under it: fine
    encrypted = PayloadCodec(Keyring(EncryptionKey.from_bytes(SECRET)), max_payload_bytes=len(text) + 36)
    with pytest.raises(PayloadTooLargeError, match="The arguments of this run|the run's arguments"):
        encrypted.seal(text, places.RUN_INPUT, RUN, True, what="The arguments of this run")
    with pytest.raises(PayloadConfigError, match="positive whole number"):
        PayloadCodec.from_env({"STEPWISE_MAX_PAYLOAD_BYTES": "ten"})


def test_text_and_values_survive_sealing() -> None:
    codec = PayloadCodec(Keyring(EncryptionKey.from_bytes(SECRET)))
    value = {"emoji": "🚀", "lone": "a\ud800", "n": [1.5, 2**60]}
    place = places.event_payload("evt_1", "order.paid")
    data = codec.seal(stringify(value), place, RUN, True)
    assert parse(codec.open(data, place, RUN, True)) == value


def test_run_keys_past_the_cache_are_derived_again() -> None:
    codec = PayloadCodec(Keyring(EncryptionKey.from_bytes(SECRET)))
    first = codec.seal('["first"]', places.RUN_INPUT, "wrun_cache_0", True)
    for n in range(1, 4200):  # more runs than the cache holds: wrun_cache_0's key is evicted
        codec.seal("[1]", places.RUN_INPUT, f"wrun_cache_{n}", True)
    assert codec.open(first, places.RUN_INPUT, "wrun_cache_0", True) == '["first"]'
