"""The worker protocol's errors as typed exceptions, one class per code of docs/protocol.md.

Every refusal the server answers, `{"error": {"code", "message", "details"?, "issues"?}}`, becomes
the exception of its code, carrying the server's message (it says what to do) and its `details`
as snake_case attributes (`SequenceConflictError.expected_seq`). A refused request has changed
nothing. Failures of the connection itself are `ServerUnreachableError`; both it and the 503s
are `WorldUnavailableError`s, the only `retryable` ones: a caller may retry reads and leases
with backoff (`retry.py`), never a write without reading first (a write whose connection failed
may or may not have taken effect).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from stepwise._base import StepwiseError


class ServerConfigError(StepwiseError):
    """The SDK cannot tell which Stepwise server to use, or with which secret: say what to set."""

    code = "CONFIG"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem of a refused body: where (`path`, field names and indices) and what."""

    path: tuple[str | int, ...]
    message: str


class ProtocolError(StepwiseError):
    """A call to the Stepwise server failed. `code` is the stable code the server answered with.

    `status` is the HTTP status (None when no answer came) and `details` the answer's details.
    `retryable` says whether the same call may succeed later unchanged (a 503, no connection).
    """

    code = "PROTOCOL_ERROR"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        if code is not None:
            self.code = code
        self.details: Mapping[str, object] = details if details is not None else {}

    def _str(self, key: str) -> str | None:
        value = self.details.get(key)
        return value if isinstance(value, str) else None

    def _int(self, key: str) -> int | None:
        value = self.details.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class InvalidAnswerError(ProtocolError):
    """The server answered something that is not a protocol answer this client understands."""

    code = "INVALID_ANSWER"


class InvalidBodyError(ProtocolError):
    """The request was not JSON (`INVALID_JSON`) or not the operation's shape (`INVALID_BODY`).

    `issues` names each wrong field. Nothing was written.
    """

    code = "INVALID_BODY"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: Mapping[str, object] | None = None,
        issues: tuple[Issue, ...] = (),
    ) -> None:
        super().__init__(message, status=status, code=code, details=details)
        self.issues = issues


class ProtocolVersionError(ProtocolError):
    """The server does not speak this client's protocol version; `versions` lists those it does."""

    code = "PROTOCOL_VERSION_UNSUPPORTED"

    @property
    def versions(self) -> tuple[str, ...]:
        """The versions the server speaks."""
        value = self.details.get("versions")
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


class UnauthorizedError(ProtocolError):
    """The server refused the secret: set STEPWISE_HTTP_SECRET to the server's."""

    code = "UNAUTHORIZED"


class UnknownOperationError(ProtocolError):
    """The server knows no such operation or route (an older server?), or refused the method."""

    code = "OPERATION_NOT_FOUND"


class NotFoundError(ProtocolError):
    """A step, hook, stream or bundle that does not exist (subclasses: a run, a hook token, a worker)."""

    code = "NOT_FOUND"


class RunNotFoundError(NotFoundError):
    """No run with that id."""

    code = "RUN_NOT_FOUND"

    @property
    def run_id(self) -> str | None:
        """The run id asked for."""
        return self._str("runId")


class HookNotFoundError(NotFoundError):
    """No active hook holds that token."""

    code = "HOOK_NOT_FOUND"

    @property
    def token(self) -> str | None:
        """The token asked for."""
        return self._str("token")


class WorkerNotFoundError(NotFoundError):
    """The server does not know this worker id (it restarted, or forgot a silent worker): register again."""

    code = "WORKER_NOT_FOUND"


class ConflictError(ProtocolError):
    """A conflicting write: a reused id, a closed stream, a malformed write (subclasses say which)."""

    code = "CONFLICT"


class SequenceConflictError(ConflictError):
    """Fencing: the run's log moved past `expected_seq` (another worker extended it)."""

    code = "SEQUENCE_CONFLICT"

    @property
    def run_id(self) -> str | None:
        """The run appended to."""
        return self._str("runId")

    @property
    def expected_seq(self) -> int | None:
        """The seq the append was conditioned on."""
        return self._int("expectedSeq")

    @property
    def actual_seq(self) -> int | None:
        """The run's seq when the append was refused."""
        return self._int("actualSeq")


class RunFinishedError(ConflictError):
    """The run has ended; its log takes nothing more."""

    code = "RUN_FINISHED"

    @property
    def run_id(self) -> str | None:
        """The finished run."""
        return self._str("runId")

    @property
    def run_status(self) -> str | None:
        """How it ended (`completed`, `failed`, `cancelled`)."""
        return self._str("status")


class RunIdConflictError(ConflictError):
    """The run id is held by a run of another workflow."""

    code = "RUN_ID_CONFLICT"

    @property
    def run_id(self) -> str | None:
        """The run id asked for."""
        return self._str("runId")

    @property
    def workflow_name(self) -> str | None:
        """The workflow of the run holding the id."""
        return self._str("workflowName")

    @property
    def requested_workflow_name(self) -> str | None:
        """The workflow the caller asked for."""
        return self._str("requestedWorkflowName")


class HookTokenConflictError(ConflictError):
    """The token is held by another active hook."""

    code = "HOOK_TOKEN_CONFLICT"

    @property
    def token(self) -> str | None:
        """The token asked for."""
        return self._str("token")

    @property
    def held_by_run_id(self) -> str | None:
        """The run whose hook holds it."""
        return self._str("heldByRunId")


class ImportConflictError(ConflictError):
    """Another run already lives under the imported run's id."""

    code = "IMPORT_CONFLICT"

    @property
    def run_id(self) -> str | None:
        """The run id of the import."""
        return self._str("runId")


class WorkflowVersionConflictError(ConflictError):
    """Another live worker registered this workflow version with other code (another digest)."""

    code = "WORKFLOW_VERSION_CONFLICT"


class LeaseLostError(ProtocolError):
    """Fencing: the run's lease (or a message's) is not the caller's any more. Drop the run."""

    code = "LEASE_LOST"


class BodyTooLargeError(ProtocolError):
    """The request is over the server's body limit (96 MB)."""

    code = "BODY_TOO_LARGE"


class PayloadTooLargeError(ProtocolError):
    """The write would take the run past its byte budget."""

    code = "PAYLOAD_TOO_LARGE"


class WorldUnavailableError(ProtocolError):
    """The World behind the server (or the server) cannot be used right now: retry with backoff."""

    code = "WORLD_UNAVAILABLE"
    retryable: ClassVar[bool] = True


class WorldBusyError(WorldUnavailableError):
    """The World is busy (its database locked or overloaded): retry with backoff."""

    code = "WORLD_BUSY"


class WorldStorageError(WorldUnavailableError):
    """The World's storage failed (disk full, I/O error): retry once it is fixed."""

    code = "WORLD_STORAGE"

    @property
    def reason(self) -> str | None:
        """What failed, in the World's words."""
        return self._str("reason")


class ServerUnreachableError(WorldUnavailableError):
    """The Stepwise server could not be reached, or the connection broke before it answered.

    `url` is the server's; `sent` says whether the request may have reached it (then a write
    may have taken effect: read before writing again).
    """

    code = "SERVER_UNREACHABLE"

    def __init__(self, message: str, *, url: str, sent: bool) -> None:
        super().__init__(message)
        self.url = url
        self.sent = sent


class WorldCorruptError(ProtocolError):
    """The server's database is damaged: see the server's log and `npx stepwise doctor`."""

    code = "WORLD_CORRUPT"


class InternalServerError(ProtocolError):
    """The server failed unexpectedly; its message names an error id to look for in its log."""

    code = "INTERNAL"


#: Each code the server answers with, and its exception class.
ERRORS_BY_CODE: Mapping[str, type[ProtocolError]] = {
    "INVALID_JSON": InvalidBodyError,
    "INVALID_BODY": InvalidBodyError,
    "PROTOCOL_VERSION_UNSUPPORTED": ProtocolVersionError,
    "UNAUTHORIZED": UnauthorizedError,
    "RUN_NOT_FOUND": RunNotFoundError,
    "HOOK_NOT_FOUND": HookNotFoundError,
    "NOT_FOUND": NotFoundError,
    "WORKER_NOT_FOUND": WorkerNotFoundError,
    "OPERATION_NOT_FOUND": UnknownOperationError,
    "ROUTE_NOT_FOUND": UnknownOperationError,
    "METHOD_NOT_ALLOWED": UnknownOperationError,
    "UNSUPPORTED_MEDIA_TYPE": UnknownOperationError,
    "SEQUENCE_CONFLICT": SequenceConflictError,
    "LEASE_LOST": LeaseLostError,
    "RUN_FINISHED": RunFinishedError,
    "RUN_ID_CONFLICT": RunIdConflictError,
    "HOOK_TOKEN_CONFLICT": HookTokenConflictError,
    "IMPORT_CONFLICT": ImportConflictError,
    "CONFLICT": ConflictError,
    "WORKFLOW_VERSION_CONFLICT": WorkflowVersionConflictError,
    "BODY_TOO_LARGE": BodyTooLargeError,
    "PAYLOAD_TOO_LARGE": PayloadTooLargeError,
    "WORLD_UNAVAILABLE": WorldUnavailableError,
    "WORLD_BUSY": WorldBusyError,
    "WORLD_STORAGE": WorldStorageError,
    "WORLD_CORRUPT": WorldCorruptError,
    "INTERNAL": InternalServerError,
}


def _issues(value: object) -> tuple[Issue, ...]:
    if not isinstance(value, list):
        return ()
    issues: list[Issue] = []
    for item in value:
        if not isinstance(item, dict):
            continue
        path = item.get("path")
        message = item.get("message")
        steps = tuple(p for p in path if isinstance(p, (str, int))) if isinstance(path, list) else ()
        issues.append(Issue(steps, message if isinstance(message, str) else ""))
    return tuple(issues)


def error_from_answer(status: int, body: object, where: str, operation: str) -> ProtocolError:
    """The exception for a refusal: `body` is the answer's JSON, `where` the server's address."""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if not isinstance(error, dict) or not isinstance(code, str) or not isinstance(message, str):
        if status == 503:
            return WorldUnavailableError(
                f"The Stepwise server at {where} answered {operation} with 503 (unavailable): "
                "retry with backoff.",
                status=status,
            )
        return InvalidAnswerError(
            f"The server at {where} refused {operation} with {status} and no error body. "
            "Is STEPWISE_WORLD the address of a Stepwise server?",
            status=status,
        )
    raw_details = error.get("details")
    details: Mapping[str, object] = raw_details if isinstance(raw_details, dict) else {}
    if code == "UNAUTHORIZED":
        return UnauthorizedError(
            f"The Stepwise server at {where} refused the secret: set STEPWISE_HTTP_SECRET to the "
            "server's (the value it was started with).",
            status=status,
            details=details,
        )
    cls = ERRORS_BY_CODE.get(code)
    if cls is InvalidBodyError:
        return InvalidBodyError(
            message, status=status, code=code, details=details, issues=_issues(error.get("issues"))
        )
    if cls is None:
        cls = WorldUnavailableError if status == 503 else ProtocolError
    return cls(message, status=status, code=code, details=details)
