"""Guards, policies and the origin rule, in the core."""

from __future__ import annotations

import pytest

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
from pyfly_ws.guards import origin_allowed
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
    ],
)
def test_origin_rule(origin: str | None, host: str, allowed: tuple[str, ...] | None, ok: bool) -> None:
    pairs = [("host", host)] + ([("origin", origin)] if origin else [])
    assert origin_allowed(Headers(pairs), allowed) is ok


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
