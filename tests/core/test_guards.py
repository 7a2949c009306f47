"""Guards, policies and the origin rule, in the core."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyfly_ws import (
    HandshakeView,
    Headers,
    Policy,
    QueryParams,
    Reject,
    WebSocketSession,
    create_app,
    discover,
    request_mapping,
    rest_controller,
    websocket_mapping,
    websocket_policy,
)
from pyfly_ws.mapping.guards import origin_allowed, origin_refusal
from pyfly_ws.testing import ASGIClient, HandshakeRefused

pytestmark = pytest.mark.anyio


def outer(view: HandshakeView) -> dict[str, str]:
    return {"level": "application"}


def middle(view: HandshakeView) -> dict[str, str]:
    return {"level": "controller"}


def inner(view: HandshakeView) -> dict[str, str]:
    return {"level": "endpoint", "inner": "yes"}


@rest_controller
@request_mapping("/g")
@websocket_policy(guards=[middle], allowed_origins=["https://controller.example"])
class Layered:
    @websocket_mapping("/plain")
    async def plain(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_json(session.state)

    @websocket_mapping("/own", guards=[inner], allowed_origins=["https://endpoint.example"])
    async def own(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_json(session.state)


def test_policies_merge_application_controller_endpoint() -> None:
    by_path = {e.path: e.policy for e in discover(Layered, guards=[outer], allowed_origins=["https://app.example"])}
    assert by_path["/g/plain"] == Policy((outer, middle), ("https://controller.example",))
    assert by_path["/g/own"] == Policy((outer, middle, inner), ("https://endpoint.example",))


async def test_application_guards_through_create_app_run_first() -> None:
    async with ASGIClient(create_app(Layered, guards=[outer])) as client:
        async with client.connect("/g/own") as ws:
            assert await ws.receive_json() == {"level": "endpoint", "inner": "yes"}
        async with client.connect("/g/plain", headers={"origin": "https://controller.example"}) as ws:
            assert await ws.receive_json() == {"level": "controller"}
        with pytest.raises(HandshakeRefused) as refused:
            async with client.connect("/g/plain", headers={"origin": "https://endpoint.example"}):
                pass
        assert refused.value.status == 403


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "ok"),
    [
        (None, "a.example", None, True),
        ("https://a.example", "a.example", None, True),
        ("https://a.example", "a.example:443", None, True),
        ("http://a.example:8000", "a.example:8000", None, True),
        ("http://A.EXAMPLE:8000/", "a.example:8000", None, True),
        ("http://a.example:8001", "a.example:8000", None, False),
        ("https://b.example", "a.example", None, False),
        ("null", "a.example", None, False),
        ("https://b.example", "a.example", ("https://b.example",), True),
        ("https://c.example", "a.example", ("https://b.example",), False),
        ("https://c.example", "a.example", ("*",), True),
        ("http://[::1]:8000", "[::1]:8000", None, True),
        ("http://[0:0:0:0:0:0:0:1]:8000", "[::1]:8000", None, True),
        ("https://[::1]", "[::1]", None, True),
        ("http://[::1]:8001", "[::1]:8000", None, False),
        ("http://[::1]:8000", "::1:8000", None, False),  # a bare IPv6 Host is malformed
        ("http://127.0.0.1:8000", "127.0.0.1:8000", None, True),
        ("http://a.example.", "A.Example", None, True),
        ("http://a.example", "a.example:80", None, True),
        ("http://a.example", "a.example:443", None, False),
        ("https://a.example:8443", "a.example:8443", None, True),
        ("http://a.example:99999", "a.example:99999", None, False),
        ("http://a.example:abc", "a.example", None, False),
        ("http://[::1", "[::1]", None, False),
        ("http://a.example/path", "a.example", None, False),
        ("a.example", "a.example", None, False),
        ("chrome-extension://a.example", "a.example", None, False),
        ("https://b.example:443", "a.example", ("https://b.example",), True),
        ("http://a.example", "", None, False),
        ("http://a.example", "a.example:x", None, False),
    ],
)
def test_origin_rule(origin: str | None, host: str, allowed: tuple[str, ...] | None, ok: bool) -> None:
    pairs = [("host", host)] + ([("origin", origin)] if origin else [])
    assert origin_allowed(Headers(pairs), allowed) is ok


@pytest.mark.parametrize(
    ("origin", "why"),
    [
        ("http://a.example:99999", "malformed origin: Port out of range 0-65535"),
        ("http://a.example:abc", "malformed origin: Port could not be cast to integer value as 'abc'"),
        ("http://[::1", "malformed origin: Invalid IPv6 URL"),
        ("null", "not allowed (an opaque origin)"),
        ("https://b.example", "not allowed"),
    ],
)
def test_origin_refusal_says_why(origin: str, why: str) -> None:
    assert origin_refusal(Headers([("host", "a.example"), ("origin", origin)]), None) == why


latin1 = st.text(st.characters(max_codepoint=255), max_size=40)
"""What a header value decodes to: the server hands over bytes, read as Latin-1."""


@given(
    origin=latin1 | st.builds("{}://{}".format, st.sampled_from(["http", "https", "ws", "x"]), latin1),
    host=latin1,
    allowed=st.none() | st.lists(latin1.map(lambda s: s.rstrip("/").lower()), max_size=3).map(tuple),
)
def test_the_origin_check_never_raises(origin: str, host: str, allowed: tuple[str, ...] | None) -> None:
    why = origin_refusal(Headers([("host", host), ("origin", origin)]), allowed)
    assert why is None or why.startswith(("malformed origin: ", "not allowed"))


hostnames = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,6}){0,2}", fullmatch=True)
addresses = st.ip_addresses().map(str) | hostnames


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@given(
    host=addresses,
    scheme=st.sampled_from(["http", "https"]),
    port=st.none() | st.integers(1, 65535),
    upper=st.booleans(),
)
def test_same_origin_is_allowed_for_every_host_form(host: str, scheme: str, port: int | None, upper: bool) -> None:
    """What a browser sends for a page on the server itself: ``Host`` and ``Origin`` name the same place."""
    default = {"http": 80, "https": 443}[scheme]
    spelled = ipaddress.ip_address(host).exploded if ":" in host else host  # another spelling of an IPv6 address
    shown_port = "" if port in (None, default) else f":{port}"
    origin = f"{scheme}://{_shown(spelled)}{shown_port}"
    host_header = f"{_shown(host)}{shown_port}"
    headers = Headers([("host", host_header.upper() if upper else host_header), ("origin", origin)])
    assert origin_refusal(headers, None) is None
    other = (port or default) % 65535 + 1
    moved = Headers([("host", f"{_shown(host)}:{other}"), ("origin", f"{scheme}://{_shown(host)}:{port or default}")])
    assert origin_refusal(moved, None) == "not allowed"


def test_bad_policy_input_is_refused_early() -> None:
    with pytest.raises(TypeError, match="a guard must be callable"):
        websocket_mapping("/x", guards=["not callable"])
    with pytest.raises(TypeError, match="a list of origins, not one string"):
        websocket_policy(allowed_origins="https://a.example")
    with pytest.raises(TypeError, match="non-empty string"):
        create_app(Layered, allowed_origins=[""])
    with pytest.raises(ValueError, match="4xx or 5xx"):
        Reject(200)


def test_handshake_view_reads_cookies_and_ignores_bad_ones() -> None:
    headers = Headers([("cookie", "a=1; b=two"), ("cookie", 'bad="unterminated'), ("cookie", "c=3")])
    view = HandshakeView("/p", {}, QueryParams([]), headers, None, ())
    assert view.cookies == {"a": "1", "b": "two", "c": "3"}
    with pytest.raises(AttributeError):
        view.path = "/other"  # type: ignore[misc]
