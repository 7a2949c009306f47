"""Authentication: each authenticator accepts, refuses a missing, bad or expired token, and keeps the principal."""

from __future__ import annotations

import time
from typing import Any

import anyio

from pyfly_ws import (
    HandshakeView,
    Principal,
    Reject,
    WebSocketSession,
    message_mapping,
    request_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.auth import CookieToken, HeaderToken, InvalidToken, MessageToken, QueryToken, SubprotocolToken
from pyfly_ws.testing import HandshakeRefused

from ..context import CaseContext
from ..registry import case
from ._support import expect_refused, record


def verify(token: str) -> Principal:
    """``ann.ok`` is ann (``ann.soon``: for 1.2 s more, ``ann.old``: expired); ``ann.banned`` is refused."""
    identity, _, kind = token.partition(".")
    if not identity or kind not in ("ok", "soon", "old", "banned", "admin"):
        raise InvalidToken("unknown token")
    if kind == "banned":
        raise Reject(403, "banned")
    expires = {"soon": time.time() + 1.2, "old": time.time() - 10}.get(kind)
    return Principal(identity, {"scope": "admin" if kind == "admin" else "read"}, expires_at=expires)


def guard(view: HandshakeView) -> dict[str, Any]:
    return {"guard_saw": None if view.principal is None else view.principal.identity}


async def _greet(session: WebSocketSession) -> None:
    await session.accept()
    principal = session.principal
    assert principal is not None
    await session.send_json({"identity": principal.identity, "state": session.state})
    async for token in session.iter_text():
        try:
            await session.refresh(token)
        except Reject as refusal:
            await session.send_text(f"refused {refusal.status}")
        else:
            await session.send_text("refreshed")


@rest_controller
@request_mapping("/auth")
class AuthController:
    """One raw endpoint per authenticator."""

    @websocket_mapping("/header", authenticator=HeaderToken(verify), guards=[guard])
    async def header(self, session: WebSocketSession) -> None:
        await _greet(session)

    @websocket_mapping("/protocol", authenticator=SubprotocolToken(verify, protocols=["app.v1"]))
    async def protocol(self, session: WebSocketSession) -> None:
        await _greet(session)

    @websocket_mapping("/cookie", authenticator=CookieToken(verify, name="sid"))
    async def cookie(self, session: WebSocketSession) -> None:
        await _greet(session)

    @websocket_mapping("/query", authenticator=QueryToken(verify))
    async def query(self, session: WebSocketSession) -> None:
        await _greet(session)

    @websocket_mapping("/first", authenticator=MessageToken(verify, deadline=0.5))
    async def first(self, session: WebSocketSession) -> None:
        await _greet(session)

    def on_disconnect(self, session: WebSocketSession) -> None:
        record(session, "on_disconnect")


@rest_controller
@websocket_mapping("/auth/messages", authenticator=HeaderToken(verify))
class AuthMessages:
    """A message-level endpoint: ``auth.refresh``, ``auth.expiring`` and ``requires``."""

    @message_mapping("whoami")
    async def whoami(self, session: WebSocketSession) -> Any:
        return None if session.principal is None else session.principal.identity

    @message_mapping("admin", requires={"admin"})
    async def admin(self) -> str:
        return "done"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def _refused(ctx: CaseContext, path: str, **options: Any) -> HandshakeRefused:
    try:
        async with ctx.connect(path, **options) as ws:
            raise AssertionError(f"handshake to {path} was accepted (subprotocol {ws.subprotocol!r})")
    except HandshakeRefused as refused:
        return refused


@case("auth.header_accepted")
async def header_accepted(ctx: CaseContext) -> None:
    """A bearer token in ``Authorization`` signs the session in; guards see the principal."""
    async with ctx.connect("/auth/header", headers=bearer("ann.ok")) as ws:
        assert await ws.receive_json() == {"identity": "ann", "state": {"guard_saw": "ann"}}


@case("auth.header_refused")
async def header_refused(ctx: CaseContext) -> None:
    """A missing, bad, expired or forbidden token refuses the handshake; the handler never runs."""
    for headers in ({}, bearer("nobody"), bearer("ann.old"), bearer("ann.banned"), {"authorization": "Basic x"}):
        await _refused(ctx, "/auth/header", headers=headers)
    await anyio.sleep(0.1)
    assert await ctx.events() == []


@case("auth.refusal_status", requires=("http_denial",), server_requires=("http_denial",))
async def refusal_status(ctx: CaseContext) -> None:
    """401 for a missing, bad or expired token, 403 for a forbidden one, 400 for no application subprotocol."""
    await expect_refused(ctx, "/auth/header", 401)
    await expect_refused(ctx, "/auth/header", 401, headers=bearer("nobody"))
    await expect_refused(ctx, "/auth/header", 401, headers=bearer("ann.old"))
    await expect_refused(ctx, "/auth/header", 403, headers=bearer("ann.banned"))
    await expect_refused(ctx, "/auth/protocol", 400, subprotocols=["bearer.ann.ok"])


@case("auth.refusal_logged_without_the_token")
async def refusal_logged(ctx: CaseContext) -> None:
    """A refusal is one INFO line with the reason, and the token is in no log line."""
    await _refused(ctx, "/auth/query", query={"token": "nobody"})
    logs = await ctx.logs()
    assert any(r["level"] == "INFO" and "unknown token" in r["message"] for r in logs), logs
    assert not any("nobody" in r["message"] for r in logs), logs


@case("auth.subprotocol_echo", requires=("subprotocols",), server_requires=("subprotocols",))
async def subprotocol_echo(ctx: CaseContext) -> None:
    """A token offered as ``bearer.<token>`` signs in; the server accepts the application's subprotocol."""
    async with ctx.connect("/auth/protocol", subprotocols=["bearer.ann.ok", "app.v1"]) as ws:
        assert ws.subprotocol == "app.v1"
        assert (await ws.receive_json())["identity"] == "ann"
    await _refused(ctx, "/auth/protocol", subprotocols=["app.v1", "bearer.nobody"])
    await _refused(ctx, "/auth/protocol", subprotocols=["app.v1"])


@case("auth.cookie")
async def cookie(ctx: CaseContext) -> None:
    """A cookie signs in from the server's own origin; another origin is refused even with the cookie."""
    async with ctx.connect("/auth/cookie", headers={"cookie": "sid=ann.ok"}) as ws:
        assert (await ws.receive_json())["identity"] == "ann"
    await _refused(ctx, "/auth/cookie", headers={"cookie": "sid=nobody"})
    await _refused(ctx, "/auth/cookie", headers={"cookie": "sid=ann.ok", "origin": "https://evil.example"})


@case("auth.query")
async def query(ctx: CaseContext) -> None:
    """A query-string token signs in when the endpoint opts in; a bad or expired one is refused."""
    async with ctx.connect("/auth/query", query={"token": "ann.ok"}) as ws:
        assert (await ws.receive_json())["identity"] == "ann"
    await _refused(ctx, "/auth/query", query={"token": "ann.old"})
    await _refused(ctx, "/auth/query")


@case("auth.first_message", server_requires=("protocol_close_codes",))
async def first_message(ctx: CaseContext) -> None:
    """The first message's token signs in; a bad one, or none within the deadline, closes with 1008."""
    async with ctx.connect("/auth/first") as ws:
        await ws.send_text("ann.ok")
        assert (await ws.receive_json())["identity"] == "ann"
    async with ctx.connect("/auth/first") as ws:
        await ws.send_text("ann.old")
        assert (await ws.wait_closed())[0] == 1008
    async with ctx.connect("/auth/first") as ws:
        assert await ws.wait_closed() == (1008, "no token within 0.5 s")


@case("auth.refresh")
async def refresh(ctx: CaseContext) -> None:
    """A fresh token of the same identity is taken over the live connection; another identity's is not."""
    async with ctx.connect("/auth/header", headers=bearer("ann.ok")) as ws:
        await ws.receive_json()
        await ws.send_text("bob.ok")
        assert await ws.receive_text() == "refused 403"
        await ws.send_text("nobody")
        assert await ws.receive_text() == "refused 401"
        await ws.send_text("ann.ok")
        assert await ws.receive_text() == "refreshed"


@case("auth.expiry")
async def expiry(ctx: CaseContext) -> None:
    """A token about to expire is announced (``auth.expiring``); without a refresh the session closes with 3000."""
    async with ctx.connect("/auth/messages", headers=bearer("ann.soon")) as ws:
        expiring = await ws.receive_json()
        assert expiring["type"] == "auth.expiring" and 0 < expiring["data"]["seconds"] <= 1.2
        assert (await ws.wait_closed())[0] == 3000  # the reason, "token expired", where the server sends reasons


@case("auth.refresh_message")
async def refresh_message(ctx: CaseContext) -> None:
    """``auth.refresh`` on a message-level endpoint: a reply for the same identity, ``forbidden`` for another."""
    async with ctx.connect("/auth/messages", headers=bearer("ann.soon")) as ws:
        await ws.send_json({"type": "auth.refresh", "id": 1, "data": {"token": "bob.ok"}})
        assert (await ws.receive_json())["code"] == "forbidden"
        await ws.send_json({"type": "auth.refresh", "id": 2, "data": {"token": "ann.ok"}})
        reply = await ws.receive_json()
        assert reply == {"type": "reply", "id": 2, "data": {"identity": "ann", "expires_at": None}}
        await anyio.sleep(1.3)  # past the first token's expiry
        await ws.send_json({"type": "whoami", "id": 3})
        assert await ws.receive_json() == {"type": "reply", "id": 3, "data": "ann"}


@case("auth.requires")
async def requires(ctx: CaseContext) -> None:
    """``@message_mapping(requires=...)`` answers ``forbidden`` to a principal without the scope; it stays open."""
    async with ctx.connect("/auth/messages", headers=bearer("ann.ok")) as ws:
        await ws.send_json({"type": "admin", "id": 1})
        assert (await ws.receive_json())["code"] == "forbidden"
        await ws.send_json({"type": "whoami", "id": 2})
        assert (await ws.receive_json())["data"] == "ann"
    async with ctx.connect("/auth/messages", headers=bearer("ann.admin")) as ws:
        await ws.send_json({"type": "admin", "id": 1})
        assert (await ws.receive_json())["data"] == "done"
