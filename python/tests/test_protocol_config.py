"""Which server the client talks to: the base path rule, and clear errors for what is missing."""

from __future__ import annotations

import pytest

from stepwise._protocol import ProtocolClient, ServerConfigError, protocol_base, resolve_server


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("http://127.0.0.1:4100", "http://127.0.0.1:4100/stepwise/protocol/v1"),
        ("http://127.0.0.1:4100/", "http://127.0.0.1:4100/stepwise/protocol/v1"),
        ("https://example.com/jobs", "https://example.com/jobs/protocol/v1"),
        ("https://example.com/jobs/", "https://example.com/jobs/protocol/v1"),
        ("http://[::1]:4100/stepwise", "http://[::1]:4100/stepwise/protocol/v1"),
    ],
)
def test_base_path_rule(url: str, base: str) -> None:
    assert protocol_base(url) == base


def test_from_the_environment() -> None:
    server = resolve_server(env={"STEPWISE_WORLD": "http://h:1", "STEPWISE_HTTP_SECRET": "s"})
    assert (server.url, server.base, server.secret) == ("http://h:1", "http://h:1/stepwise/protocol/v1", "s")
    assert server.versions_url == "http://h:1/stepwise/protocol"
    # Arguments win over the environment.
    assert resolve_server("http://other:2", "t", env={"STEPWISE_WORLD": "http://h:1"}).secret == "t"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "set STEPWISE_WORLD to its URL"),
        ({"STEPWISE_WORLD": "local", "STEPWISE_HTTP_SECRET": "s"}, "talks to a server over http(s)"),
        ({"STEPWISE_WORLD": "postgres", "STEPWISE_HTTP_SECRET": "s"}, "npx stepwise server"),
        (
            {"STEPWISE_WORLD": "http://h:1"},
            "set STEPWISE_HTTP_SECRET to the value the server was started with",
        ),
        ({"STEPWISE_WORLD": "http://h:1", "STEPWISE_HTTP_SECRET": ""}, "STEPWISE_HTTP_SECRET"),
    ],
)
def test_what_is_missing_is_said(env: dict[str, str], says: str) -> None:
    with pytest.raises(ServerConfigError) as missing:
        ProtocolClient(env=env)
    assert says in missing.value.message
    assert missing.value.code == "CONFIG"
