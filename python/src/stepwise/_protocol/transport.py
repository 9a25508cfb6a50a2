"""How the SDK talks to a Stepwise server: one POST per operation over one `httpx.AsyncClient`.

JSON both ways, the bearer secret on every request, HTTP/1.1 kept-alive connections from one pool,
TCP_NODELAY (a small request leaves at once instead of after the last one's ACK). Long polls get
a read timeout of their `waitMs` plus a margin. A refusal becomes the typed exception of its code
(`errors.py`); a connection that fails is a `ServerUnreachableError`. Nothing is retried here:
whether a failed write took effect is unknown, and only the caller can read before writing again.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import TypeVar

import httpx

from .config import ServerAddress
from .errors import InvalidAnswerError, ServerUnreachableError, error_from_answer
from .wire import JsonObject, WireFormatError

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
        self._prefix = server.base + "/"
        self._urls: dict[str, httpx.URL] = {}
        self._headers = {
            "authorization": f"Bearer {server.secret}",
            "content-type": "application/json",
            "accept": "application/json",
        }
        self._pool = httpx.AsyncHTTPTransport(
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)], retries=0
        )
        # The one client (and pool) of this transport. Operations go to its transport directly
        # (`handle_async_request`, httpx's public transport API): they need none of the client's
        # per-request machinery (auth flows, cookies, redirects, hooks), which costs more than
        # the rest of a call on loopback. Streams and GETs use the client.
        self.client = httpx.AsyncClient(
            headers=self._headers,
            transport=self._pool,
            timeout=self._timeout,
            follow_redirects=False,
            trust_env=False,
        )

    def read_timeout(self, wait_ms: int | None) -> httpx.Timeout:
        """The timeout of a call that may wait `wait_ms` on the server before it answers."""
        if wait_ms is None or wait_ms <= 0:
            return self._timeout
        waited = min(wait_ms, MAX_WAIT_MS) / 1000
        return httpx.Timeout(self.timeout + waited, connect=min(self.timeout, 10.0))

    def unreachable(self, operation: str, error: BaseException) -> ServerUnreachableError:
        """The error for a connection that failed during `operation`."""
        where = self.server.url
        if isinstance(error, _NOT_SENT):
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
        url = self._urls.get(operation)
        if url is None:
            url = self._urls[operation] = httpx.URL(self._prefix + operation)
        timeout = self._timeout if wait_ms is None else self.read_timeout(wait_ms)
        request = httpx.Request(
            "POST",
            url,
            headers=self._headers,
            content=json.dumps(body, separators=(",", ":")).encode(),
            extensions={"timeout": timeout.as_dict()},
        )
        try:
            response = await self._pool.handle_async_request(request)
            try:
                content = await response.aread()
            finally:
                await response.aclose()
        except httpx.TransportError as error:
            raise self.unreachable(operation, error) from error
        return self.answer(operation, response.status_code, content, decode)

    def answer(self, operation: str, status: int, content: bytes, decode: Callable[[JsonObject], T]) -> T:
        """Decodes an answer: the value for a 200, the typed exception for anything else."""
        try:
            value: object = json.loads(content)
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
        await self.client.aclose()
