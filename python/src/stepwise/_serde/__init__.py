"""The payload format in Python: values to devalue text and back, and text to stored bytes and back.

Everything here follows docs/payloads.md, so a Python worker reads and writes exactly the bytes the
TypeScript engine does; docs/python.md ("Payloads in Python") is the user's view. The SDK's public
names are re-exported from `stepwise`; this package is internal.
"""

from .error_values import (
    ErrorReviver,
    ErrorShape,
    SerializedError,
    error_shape,
    register_error_reviver,
)
from .errors import (
    DecryptionReason,
    PayloadConfigError,
    PayloadDecryptionError,
    PayloadTooLargeError,
    SerializationError,
)
from .keys import KEY_ENV, OLD_KEYS_ENV, EncryptionKey, Keyring, key_id_of, parse_encryption_key
from .limits import DEFAULT_MAX_PAYLOAD_BYTES, MAX_PAYLOAD_ENV
from .parse import parse
from .payload import PLAINTEXT_NOTICE, PayloadCodec, is_encrypted_payload
from . import places
from .stringify import PLAIN_DATA_HINT, stringify
from .undefined import UNDEFINED, UndefinedType
from .values import URL, ClassInstance, JSMap, RegExp, TypedArray, URLSearchParams

__all__ = [
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "KEY_ENV",
    "MAX_PAYLOAD_ENV",
    "OLD_KEYS_ENV",
    "PLAINTEXT_NOTICE",
    "EncryptionKey",
    "Keyring",
    "PayloadCodec",
    "PayloadConfigError",
    "is_encrypted_payload",
    "key_id_of",
    "parse_encryption_key",
    "places",
    "PLAIN_DATA_HINT",
    "UNDEFINED",
    "URL",
    "ClassInstance",
    "DecryptionReason",
    "PayloadConfigError",
    "ErrorReviver",
    "ErrorShape",
    "JSMap",
    "PayloadDecryptionError",
    "PayloadTooLargeError",
    "RegExp",
    "SerializationError",
    "SerializedError",
    "TypedArray",
    "URLSearchParams",
    "UndefinedType",
    "error_shape",
    "parse",
    "register_error_reviver",
    "stringify",
]
