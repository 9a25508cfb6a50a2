"""How the SDK talks to a Stepwise server: one POST per operation, JSON both ways, the bearer secret.

Operations go over `http11.ConnectionPool` (kept-alive asyncio connections, one write per request:
see there why not httpx for the per-step path); the notification stream and `GET`s over one
`httpx.AsyncClient`. Long polls get a timeout of their `waitMs` plus a margin. A refusal becomes
the typed exception of its code (`errors.py`); a connection that fails is a
`ServerUnreachableError`. Nothing is retried here: whether a failed write took effect is unknown,
and only the caller can read before writing again.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from .config import ServerAddress
from .errors import InvalidAnswerError, ServerUnreachableError, error_from_answer
from .http11 import ConnectFailed, ConnectionLost, ConnectionPool
from .wire import JsonObject, WireFormatError

#: The request encoder, made once: `json.dumps` with `separators` builds a new encoder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"))

T = TypeVar("T")

#: Longest long poll the server grants (ms); longer asks are cut to it.
MAX_WAIT_MS = 60_000
#: How long a call may take past its long poll before it counts as failed (s).
DEFAULT_TIMEOUT_S = 60.0

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def _reason(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    cause = error.__cause__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}: {cause}"
    return text


class Transport:
    """POSTs operations to one server and decodes the answers; `aclose()` closes its connections."""

    def __init__(self, server: ServerAddress, *, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.server = server
        self.timeout = timeout
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        parts = urlsplit(server.base)
        self._prefix = parts.path + "/"
        self._pool = ConnectionPool(f"{parts.scheme}://{parts.netloc}", connect_timeout=min(timeout, 10.0))
        self._head = (
            f"authorization: Bearer {server.secret}\r\n"
            "content-type: application/json\r\naccept: application/json\r\n"
        ).encode("latin-1")
        #: For the notification stream and GETs (one long-lived connection, not the per-step path).
        self.client = httpx.AsyncClient(
            headers={"authorization": f"Bearer {server.secret}", "accept": "application/json"},
            transport=httpx.AsyncHTTPTransport(
                socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)], retries=0
            ),
            timeout=self._timeout,
            follow_redirects=False,
            trust_env=False,
        )

    def call_timeout(self, wait_ms: int | None) -> float:
        """How long (s) a call that may wait `wait_ms` on the server may take before it counts as failed."""
        if wait_ms is None or wait_ms <= 0:
            return self.timeout
        return self.timeout + min(wait_ms, MAX_WAIT_MS) / 1000

    def unreachable(self, operation: str, error: BaseException) -> ServerUnreachableError:
        """The error for a connection that failed during `operation`."""
        where = self.server.url
        if isinstance(error, (ConnectFailed, *_NOT_SENT)):
            return ServerUnreachableError(
                f"The Stepwise server at {where} cannot be reached ({_reason(error)}). Start it "
                "(`npx stepwise server`) or check STEPWISE_WORLD; reads and leases may be retried "
                "with backoff until it answers.",
                url=where,
                sent=False,
            )
        return ServerUnreachableError(
            f"The connection to the Stepwise server at {where} failed during {operation} "
            f"({_reason(error)}). The call may have taken effect: read before writing again.",
            url=where,
            sent=True,
        )

    async def call(
        self,
        operation: str,
        body: JsonObject,
        decode: Callable[[JsonObject], T],
        wait_ms: int | None = None,
    ) -> T:
        """POSTs `body` to `operation` (e.g. `"events/append"`) and decodes the answer."""
        content = _ENCODER.encode(body).encode()
        try:
            answer = await self._pool.post(
                self._prefix + operation, self._head, content, self.call_timeout(wait_ms)
            )
        except (ConnectFailed, ConnectionLost) as error:
            raise self.unreachable(operation, error) from error
        return self.answer(operation, answer.status, answer.body, decode)

    def answer(self, operation: str, status: int, content: bytes, decode: Callable[[JsonObject], T]) -> T:
        """Decodes an answer: the value for a 200, the typed exception for anything else."""
        try:
            # UTF-8 by the protocol: decoded here, json.loads need not guess the encoding.
            value: object = json.loads(content.decode("utf-8"))
        except ValueError:
            raise InvalidAnswerError(
                f"The server at {self.server.url} answered {operation} with {status} and a body "
                f"that is not JSON ({content[:200]!r}). Is STEPWISE_WORLD the address of a "
                "Stepwise server?",
                status=status,
            ) from None
        if status != 200:
            raise error_from_answer(status, value, self.server.url, operation)
        if type(value) is not dict:
            raise InvalidAnswerError(
                f"The server at {self.server.url} answered {operation} with JSON that is not an object.",
                status=status,
            )
        try:
            return decode(value)
        except (WireFormatError, KeyError, TypeError, ValueError) as error:
            raise InvalidAnswerError(
                f"The server at {self.server.url} answered {operation} with something this client "
                f"does not understand ({error}). Are the server and this SDK of the same Stepwise "
                "version?",
                status=status,
            ) from error

    async def aclose(self) -> None:
        """Closes the pooled connections."""
        await self._pool.aclose()
        await self.client.aclose()
