"""The exceptions of the payload layer, with the codes the TypeScript engine uses for the same cases.

- `SerializationError` (`SERIALIZATION`): a value cannot be written (its `path` says where in the
  value), or stored text cannot be read.
- `PayloadDecryptionError` (`PAYLOAD_DECRYPTION`, a `SerializationError`): stored bytes cannot be
  opened: the key is missing, or they were altered, moved to another run or place, or forged.
- `PayloadTooLargeError` (`PAYLOAD_TOO_LARGE`): a payload is over `STEPWISE_MAX_PAYLOAD_BYTES`.
- `PayloadConfigError` (`CONFIG`): an encryption key or the payload limit in the environment is
  malformed, or an encrypted run would have to be written in clear by a process without a key.
"""

from __future__ import annotations

from typing import Literal

from stepwise._base import StepwiseError


class SerializationError(StepwiseError):
    """A value cannot be written as a payload, or a payload's text cannot be read.

    `path` is where in the value the problem is (`result["items"][3]`), empty when it is the text
    as a whole; `type_name` names the offending type when there is one.
    """

    code = "SERIALIZATION"

    def __init__(self, message: str, *, path: str = "", type_name: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.type_name = type_name


#: Why a payload could not be opened: its key is not configured here (`missing-key`: a process
#: with the key can read it), or it is not what was written there (`invalid`: no key ever will).
DecryptionReason = Literal["missing-key", "invalid"]


class PayloadDecryptionError(SerializationError):
    """Stored payload bytes could not be opened; nothing was read from them."""

    code = "PAYLOAD_DECRYPTION"

    def __init__(
        self,
        message: str,
        *,
        run_id: str,
        place: str | None,
        key_id: str | None,
        reason: DecryptionReason = "invalid",
    ) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.place = place
        self.key_id = key_id
        self.reason: DecryptionReason = reason


class PayloadTooLargeError(StepwiseError):
    """A payload is over the per-payload limit; it was not written."""

    code = "PAYLOAD_TOO_LARGE"

    def __init__(self, message: str, *, size: int, limit: int) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


class PayloadConfigError(StepwiseError):
    """The payload settings (encryption keys, the size limit) cannot be used as they are."""

    code = "CONFIG"
