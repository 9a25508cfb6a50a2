"""Which Stepwise server the SDK talks to, and with which secret.

From explicit arguments, else `STEPWISE_WORLD` (an `http(s)://` URL: the Python SDK always talks to
a server) and `STEPWISE_HTTP_SECRET`. The base path rule of docs/protocol.md: `http://host:port`
reaches the protocol under `/stepwise/protocol/v1`; a URL with a path names the base path in place
of `/stepwise` (`https://example.com/jobs` → `https://example.com/jobs/protocol/v1`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import ServerConfigError

#: The protocol version this client speaks.
PROTOCOL_VERSION = "v1"


@dataclass(frozen=True, slots=True)
class ServerAddress:
    """A server to talk to: its URL as given, where its protocol lives, and its secret."""

    url: str
    """The server's URL as configured (for messages)."""
    base: str
    """Where the protocol lives, `…/protocol/v1` (no trailing slash)."""
    secret: str

    @property
    def versions_url(self) -> str:
        """`GET` here answers the protocol versions the server speaks (`…/protocol`)."""
        return self.base.rsplit("/", 1)[0]


def protocol_base(url: str) -> str:
    """`http://host:port` → `http://host:port/stepwise/protocol/v1`; a path given is the base path."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ServerConfigError(
            f"STEPWISE_WORLD={url!r} is not a Stepwise server's address: the Python SDK talks to a "
            "server over http(s). Start one (`npx stepwise server`) and set STEPWISE_WORLD to its "
            "URL, e.g. http://127.0.0.1:4100."
        )
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path or '/stepwise'}/protocol/{PROTOCOL_VERSION}"


def resolve_server(
    url: str | None = None, secret: str | None = None, env: Mapping[str, str] | None = None
) -> ServerAddress:
    """The server from the arguments, else from the environment (`env`, default `os.environ`).

    Raises `ServerConfigError` when no http(s) URL or no secret is given, saying what to set.
    """
    environ = os.environ if env is None else env
    where = url if url is not None else environ.get("STEPWISE_WORLD", "").strip()
    if not where:
        raise ServerConfigError(
            "No Stepwise server is configured: set STEPWISE_WORLD to its URL (e.g. "
            "http://127.0.0.1:4100; start one with `npx stepwise server`) and STEPWISE_HTTP_SECRET "
            "to its secret."
        )
    base = protocol_base(where)
    key = secret if secret is not None else environ.get("STEPWISE_HTTP_SECRET", "")
    if not key:
        raise ServerConfigError(
            f"STEPWISE_WORLD={where} needs the server's secret: set STEPWISE_HTTP_SECRET to the "
            "value the server was started with."
        )
    if any(ord(ch) < 0x20 or ord(ch) > 0x7E for ch in key):
        raise ServerConfigError(
            "STEPWISE_HTTP_SECRET holds a character that cannot travel in an HTTP header (a line "
            "break, a control or non-ASCII character): set it to the server's secret exactly."
        )
    return ServerAddress(url=where, base=base, secret=key)
