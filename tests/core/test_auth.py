"""Authentication in the core: each authenticator, refusals, expiry under a fake clock, refresh, revocation."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

from pyfly_ws import (
    ConfigurationError,
    HandshakeView,
    Message,
    Principal,
    Reject,
    SessionRegistry,
    WebSocketSession,
    create_app,
    message_mapping,
    request_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.auth import (
    CookieToken,
    HeaderToken,
    InvalidToken,
    MessageToken,
    QueryToken,
    SubprotocolToken,
)
from pyfly_ws.hub import Hub
from pyfly_ws.testing import ASGIClient, FakeClock, HandshakeRefused

pytestmark = pytest.mark.anyio

START = 1_800_000_000.0
TOKENS = {
    "alice-token": Principal("alice", {"scope": "chat:read chat:write"}, expires_at=START + 300),
    "bob-token": Principal("bob", {"scope": "chat:read"}, expires_at=START + 300),
    "alice-fresh": Principal("alice", {"scope": "chat:read chat:write"}, expires_at=START + 900),
    "old-token": Principal("carol", {}, expires_at=START - 1),
    "forever": Principal("dave"),
}


def verify(token: str) -> Principal:
    if token == "banned":
        raise Reject(403, "banned")
    try:
        return TOKENS[token]
    except KeyError:
        raise InvalidToken("unknown token") from None


async def averify(token: str) -> Principal:
    await anyio.lowlevel.checkpoint()
    return verify(token)


def who(view: HandshakeView) -> dict[str, Any]:
    assert view.principal is not None  # guards run after the authenticator
    return {"seen_by_guard": view.principal.identity}


@rest_controller
@request_mapping("/a")
class Raw:
    @websocket_mapping("/header", authenticator=HeaderToken(averify), guards=[who])
    async def header(self, session: WebSocketSession) -> None:
        await session.accept()
        assert session.principal is not None
        await session.send_json({"identity": session.principal.identity, "state": session.state})
        await session.receive_text()

    @websocket_mapping("/protocol", authenticator=SubprotocolToken(verify, protocols=["chat.v1"]))
    async def protocol(self, session: WebSocketSession) -> None:
        await session.accept()
        assert session.principal is not None
        await session.send_text(session.principal.identity)
        await session.receive_text()

    @websocket_mapping("/cookie", authenticator=CookieToken(verify, name="sid"))
    async def cookie(self, session: WebSocketSession) -> None:
        await session.accept()
        assert session.principal is not None
        await session.send_text(session.principal.identity)

    @websocket_mapping("/query", authenticator=QueryToken(verify))
    async def query(self, session: WebSocketSession) -> None:
        await session.accept()
        assert session.principal is not None
        await session.send_text(session.principal.identity)

    @websocket_mapping("/first", authenticator=MessageToken(verify, deadline=0.3))
    async def first(self, session: WebSocketSession) -> None:
        await session.accept()  # returns once the first message's token is verified
        assert session.principal is not None
        await session.send_text(session.principal.identity)
        while True:
            token = await session.receive_text()
            try:
                principal = await session.refresh(token)
            except Reject as refusal:
                await session.send_text(f"refused {refusal.status}")
            else:
                await session.send_text(f"refreshed {principal.expires_at}")

    def on_expiring(self, session: WebSocketSession) -> None:
        session.state["warned"] = True
        session.post("expiring")


@rest_controller
@websocket_mapping("/m", authenticator=HeaderToken(verify))
class Chat:
    @message_mapping("say", requires={"chat:write"})
    async def say(self, session: WebSocketSession, text: str) -> str:
        return text.upper()

    @message_mapping("admin", requires=lambda principal: principal.identity == "root")
    async def admin(self, message: Message) -> str:
        return "ok"

    @message_mapping("whoami")
    async def whoami(self, session: WebSocketSession) -> str | None:
        return session.principal.identity if session.principal else None


@rest_controller
@websocket_mapping("/mfirst", authenticator=MessageToken(verify))
class FirstChat:
    def on_connect(self, session: WebSocketSession) -> None:
        assert session.principal is not None  # signed in before on_connect
        session.state["connected_as"] = session.principal.identity

    @message_mapping("whoami")
    async def whoami(self, session: WebSocketSession) -> Any:
        return session.state["connected_as"]


def app_with(*sources: object, clock: FakeClock | None = None, **options: Any) -> Any:
    registry = SessionRegistry(clock=clock or FakeClock(START))
    return create_app(list(sources), registry=registry, **options), registry


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def refused(client: ASGIClient, path: str, **options: Any) -> HandshakeRefused:
    with pytest.raises(HandshakeRefused) as caught:
        async with client.connect(path, **options):
            pass
    return caught.value


async def test_a_bearer_header_signs_the_session_in_before_the_guards() -> None:
    app, registry = app_with(Raw)
    async with ASGIClient(app) as client, client.connect("/a/header", headers=bearer("alice-token")) as ws:
        assert await ws.receive_json() == {"identity": "alice", "state": {"seen_by_guard": "alice"}}
        assert [s.principal for s in registry.sessions_of("alice")] == [TOKENS["alice-token"]]
        assert registry.sessions_of("bob") == []


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"authorization": "Basic abc"}, 401),
        (bearer("nope"), 401),
        (bearer("old-token"), 401),
        (bearer("banned"), 403),
    ],
    ids=["missing", "other-scheme", "bad", "expired", "forbidden"],
)
async def test_a_bearer_header_refusal(headers: dict[str, str], status: int) -> None:
    app, _ = app_with(Raw)
    async with ASGIClient(app) as client:
        assert (await refused(client, "/a/header", headers=headers)).status == status


async def test_the_subprotocol_token_is_never_echoed() -> None:
    app, _ = app_with(Raw)
    async with ASGIClient(app) as client:
        async with client.connect("/a/protocol", subprotocols=["chat.v1", "bearer.alice-token"]) as ws:
            assert ws.subprotocol == "chat.v1"
            assert await ws.receive_text() == "alice"
        async with client.connect("/a/protocol", subprotocols=["bearer.alice-token", "chat.v1"]) as ws:
            assert ws.subprotocol == "chat.v1"
        assert (await refused(client, "/a/protocol", subprotocols=["chat.v1"])).status == 401
        assert (await refused(client, "/a/protocol", subprotocols=["chat.v1", "bearer.nope"])).status == 401
        assert (await refused(client, "/a/protocol", subprotocols=["bearer.alice-token"])).status == 400


async def test_a_handler_cannot_accept_with_the_token_subprotocol() -> None:
    @rest_controller
    class Echo:
        @websocket_mapping("/echo-token", authenticator=SubprotocolToken(verify, protocols=["chat.v1"]))
        async def echo(self, session: WebSocketSession) -> None:
            with pytest.raises(ValueError, match="carries the client's token"):
                await session.accept("bearer.alice-token")
            await session.accept("chat.v1")
            await session.send_text("fine")

    app, _ = app_with(Echo)
    protocols = ["chat.v1", "bearer.alice-token"]
    async with ASGIClient(app) as client, client.connect("/echo-token", subprotocols=protocols) as ws:
        assert await ws.receive_text() == "fine"


async def test_a_cookie_needs_an_origin_allowlist() -> None:
    app, _ = app_with(Raw)
    async with ASGIClient(app) as client:
        headers = {"cookie": "sid=alice-token", "origin": "http://testserver", "host": "testserver"}
        async with client.connect("/a/cookie", headers=headers) as ws:
            assert await ws.receive_text() == "alice"
        assert (await refused(client, "/a/cookie", headers={"cookie": "other=1"})).status == 401
        evil = {"cookie": "sid=alice-token", "origin": "https://evil.example", "host": "testserver"}
        assert (await refused(client, "/a/cookie", headers=evil)).status == 403
    with pytest.raises(ConfigurationError, match="allows every origin"):
        create_app(Raw, allowed_origins=["*"])


async def test_a_query_token_is_blanked_out_of_log_lines(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = app_with(Raw)
    caplog.set_level(logging.DEBUG)
    # A server that ran in this process before may have set logging up its own way (its loggers disabled, or
    # stopping at "uvicorn"): let uvicorn's lines reach the capture, as where no server ran before.
    for name in ("uvicorn", "uvicorn.error"):
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
        caplog.set_level(logging.DEBUG, logger=name)  # or a level it was given (WARNING) drops the line
    async with ASGIClient(app) as client:
        async with client.connect("/a/query", query="token=alice-token&x=1") as ws:
            assert await ws.receive_text() == "alice"
        assert (await refused(client, "/a/query", query="token=wrong-secret")).status == 401
    logging.getLogger("uvicorn.error").info('%s - "WebSocket %s" [accepted]', "127.0.0.1", "/a/query?token=alice-token")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "token=[redacted]" in text
    assert "alice-token" not in text and "wrong-secret" not in text


async def test_a_first_message_token_within_the_deadline() -> None:
    app, registry = app_with(Raw)
    async with ASGIClient(app) as client:
        async with client.connect("/a/first") as ws:
            await ws.send_text("alice-token")
            assert await ws.receive_text() == "alice"
        async with client.connect("/a/first") as ws:
            await ws.send_text("nope")
            assert await ws.wait_closed() == (1008, "unknown token")
        async with client.connect("/a/first") as ws:  # says nothing: closed by the registry's timekeeper
            assert await ws.wait_closed() == (1008, "no token within 0.3 s")
        assert len(registry) == 0


async def test_expiry_warns_then_closes_without_a_refresh() -> None:
    clock = FakeClock(START)
    app, registry = app_with(Raw, clock=clock)
    async with ASGIClient(app) as client, client.connect("/a/first") as ws:
        await ws.send_text("alice-token")  # expires at START + 300: warned 60 s before
        assert await ws.receive_text() == "alice"
        clock.advance(200)
        await ws.receive_nothing(0.2)
        clock.advance(45)  # 55 s left
        assert await ws.receive_text() == "expiring"
        clock.advance(60)
        assert await ws.wait_closed() == (3000, "token expired")
    assert registry.sessions_of("alice") == []


async def test_a_refresh_keeps_the_session_and_may_not_change_the_identity() -> None:
    clock = FakeClock(START)
    app, _ = app_with(Raw, clock=clock)
    async with ASGIClient(app) as client, client.connect("/a/first") as ws:
        await ws.send_text("alice-token")
        assert await ws.receive_text() == "alice"
        await ws.send_text("bob-token")
        assert await ws.receive_text() == "refused 403"
        await ws.send_text("nope")
        assert await ws.receive_text() == "refused 401"
        await ws.send_text("alice-fresh")
        assert await ws.receive_text() == f"refreshed {START + 900}"
        clock.advance(400)  # past the first token's expiry, well before the fresh one's
        await ws.receive_nothing(0.2)
        clock.advance(460)  # 40 s left of the fresh token
        assert await ws.receive_text() == "expiring"
        clock.advance(100)
        assert (await ws.wait_closed())[0] == 3000


async def test_message_level_auth_refresh_expiring_and_requires() -> None:
    clock = FakeClock(START)
    app, _ = app_with(Chat, clock=clock)
    async with ASGIClient(app) as client:
        async with client.connect("/m", headers=bearer("bob-token")) as ws:
            await ws.send_json({"type": "say", "id": 1, "data": "hi"})
            assert (await ws.receive_json())["code"] == "forbidden"  # bob lacks chat:write; the session stays
            await ws.send_json({"type": "whoami", "id": 2})
            assert await ws.receive_json() == {"type": "reply", "id": 2, "data": "bob"}
        async with client.connect("/m", headers=bearer("alice-token")) as ws:
            await ws.send_json({"type": "say", "id": 1, "data": "hi"})
            assert await ws.receive_json() == {"type": "reply", "id": 1, "data": "HI"}
            await ws.send_json({"type": "admin", "id": 2})
            assert (await ws.receive_json())["code"] == "forbidden"
            clock.advance(250)
            expiring = await ws.receive_json()
            assert expiring == {"type": "auth.expiring", "data": {"expires_at": START + 300, "seconds": 50.0}}
            await ws.send_json({"type": "auth.refresh", "id": 3, "data": {"token": "bob-token"}})
            refusal = await ws.receive_json()
            assert (refusal["type"], refusal["code"]) == ("error", "forbidden")
            await ws.send_json({"type": "auth.refresh", "id": 4, "data": {"token": "nope"}})
            assert (await ws.receive_json())["code"] == "unauthorized"
            await ws.send_json({"type": "auth.refresh", "id": 5, "data": {"token": "alice-fresh"}})
            reply = await ws.receive_json()
            assert reply == {"type": "reply", "id": 5, "data": {"identity": "alice", "expires_at": START + 900}}
            clock.advance(100)  # past the first expiry
            await ws.send_json({"type": "whoami", "id": 6})
            assert await ws.receive_json() == {"type": "reply", "id": 6, "data": "alice"}


async def test_message_level_first_message_signs_in_before_on_connect() -> None:
    app, _ = app_with(FirstChat)
    async with ASGIClient(app) as client:
        async with client.connect("/mfirst") as ws:
            await ws.send_json({"type": "auth", "id": "a", "data": {"token": "forever"}})
            assert await ws.receive_json() == {
                "type": "reply",
                "id": "a",
                "data": {"identity": "dave", "expires_at": None},
            }
            await ws.send_json({"type": "whoami", "id": 1})
            assert await ws.receive_json() == {"type": "reply", "id": 1, "data": "dave"}
        async with client.connect("/mfirst") as ws:
            await ws.send_json({"type": "whoami", "id": 1})
            assert await ws.wait_closed() == (1008, "the first message carries no token")


async def test_disconnect_user_closes_every_session_of_that_identity() -> None:
    hub = Hub()
    app, registry = app_with(Raw, Chat, services=[hub])
    async with (
        ASGIClient(app) as client,
        client.connect("/a/header", headers=bearer("alice-token")) as one,
        client.connect("/m", headers=bearer("alice-token")) as two,
        client.connect("/m", headers=bearer("bob-token")) as other,
    ):
        await one.receive_json()
        assert len(registry.sessions_of("alice")) == 2
        assert await hub.disconnect_user("alice", code=4001, reason="revoked") == 2
        assert await one.wait_closed() == (4001, "revoked")
        assert await two.wait_closed() == (4001, "revoked")
        await other.send_json({"type": "whoami", "id": 1})
        assert (await other.receive_json())["data"] == "bob"
    with pytest.raises(ValueError, match="close code"):
        await hub.disconnect_user("alice", code=1011)


def test_authenticators_check_their_arguments() -> None:
    with pytest.raises(TypeError, match="verify"):
        HeaderToken("not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="application subprotocol"):
        SubprotocolToken(verify, protocols=[])
    with pytest.raises(ValueError, match="start with the token prefix"):
        SubprotocolToken(verify, protocols=["bearer.v1"])
    with pytest.raises(ValueError, match="deadline"):
        MessageToken(verify, deadline=0)
    with pytest.raises(TypeError, match="identity"):
        Principal("")
    with pytest.raises(TypeError, match="authenticator must be"):
        websocket_mapping("/x", authenticator=verify)  # type: ignore[call-overload]
    assert Principal("a", {"scp": ["x", "y"], "scope": "z"}).scopes == {"x", "y", "z"}
