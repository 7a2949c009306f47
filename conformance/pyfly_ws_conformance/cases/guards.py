"""Guards and the origin check: refusals before accept, state for the handler, and their logs."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel

from pyfly_ws import (
    HandshakeView,
    Reject,
    WebSocketSession,
    request_mapping,
    rest_controller,
    websocket_mapping,
    websocket_policy,
)

from ..context import CaseContext
from ..registry import case
from ._support import expect_refused, record


def needs_token(view: HandshakeView) -> dict[str, str]:
    if view.query_params.get("token") != "secret":
        raise Reject(403, "bad token")
    return {"user": view.headers.get("x-user", "anonymous")}


async def needs_cookie(view: HandshakeView) -> dict[str, str]:
    await anyio.lowlevel.checkpoint()
    if view.cookies.get("session") != "abc":
        raise Reject(401, "log in first")
    return {"session": view.cookies["session"]}


def reports(view: HandshakeView) -> dict[str, Any]:
    return {
        "seen": {
            "path": view.path,
            "params": {k: [type(v).__name__, str(v)] for k, v in view.path_params.items()},
            "query": view.query_params.get("q"),
            "header": view.headers.get("x-h"),
            "cookie": view.cookies.get("c"),
            "subprotocols": list(view.subprotocols),
        }
    }


def broken(view: HandshakeView) -> None:
    raise RuntimeError("guard bug")


def needs_team(view: HandshakeView) -> dict[str, str]:
    team = view.headers.get("x-team")
    if not team:
        raise Reject(403, "no team")
    return {"team": team}


async def _state(session: WebSocketSession) -> None:
    await session.accept()
    await session.send_json({"state": session.state, "host": session.headers.get("host")})


@rest_controller
@request_mapping("/guards")
class GuardsController:
    """One endpoint per kind of guard and origin rule."""

    @websocket_mapping("/token", guards=[needs_token])
    async def token(self, session: WebSocketSession) -> None:
        await _state(session)

    @websocket_mapping("/cookie", guards=[needs_cookie])
    async def cookie(self, session: WebSocketSession) -> None:
        await _state(session)

    @websocket_mapping("/inspect/{n:int}", guards=[reports])
    async def inspect(self, session: WebSocketSession) -> None:
        await _state(session)

    @websocket_mapping("/broken", guards=[broken])
    async def broken(self, session: WebSocketSession) -> None:
        await _state(session)

    @websocket_mapping("/origin")
    async def origin(self, session: WebSocketSession) -> None:
        await _state(session)

    @websocket_mapping("/origin-listed", allowed_origins=["https://app.example"])
    async def origin_listed(self, session: WebSocketSession) -> None:
        await _state(session)

    @websocket_mapping("/origin-any", allowed_origins=["*"])
    async def origin_any(self, session: WebSocketSession) -> None:
        await _state(session)

    def on_disconnect(self, session: WebSocketSession) -> None:
        record(session, "on_disconnect")


@rest_controller
@request_mapping("/guards-team")
@websocket_policy(guards=[needs_team])
class TeamController:
    """Every endpoint needs a team; one also needs a token."""

    @websocket_mapping("/any")
    async def any_member(self, session: WebSocketSession) -> None:
        await _state(session)

    @websocket_mapping("/admin", guards=[needs_token])
    async def admin(self, session: WebSocketSession) -> None:
        await _state(session)


async def _accepted(ctx: CaseContext, path: str, **options: Any) -> dict[str, Any]:
    async with ctx.connect(path, **options) as ws:
        return dict(await ws.receive_json())


@case("guards.refusal")
async def refusal(ctx: CaseContext) -> None:
    """A guard that raises ``Reject`` refuses with 403; the handler and ``on_disconnect`` never run."""
    await expect_refused(ctx, "/guards/token")
    await anyio.sleep(0.1)
    assert await ctx.events() == []


@case("guards.state_for_the_handler")
async def state_for_the_handler(ctx: CaseContext) -> None:
    """What a guard returns (a mapping) is in ``session.state`` for the handler."""
    seen = await _accepted(ctx, "/guards/token", query={"token": "secret"}, headers={"x-user": "ann"})
    assert seen["state"] == {"user": "ann"}


@case("guards.async_guard")
async def async_guard(ctx: CaseContext) -> None:
    """Async guards are awaited; their mapping reaches the handler."""
    seen = await _accepted(ctx, "/guards/cookie", headers={"cookie": "session=abc; other=1"})
    assert seen["state"] == {"session": "abc"}


@case("guards.refusal_status", requires=("http_denial",), server_requires=("http_denial",))
async def refusal_status(ctx: CaseContext) -> None:
    """``Reject(401, reason)`` answers HTTP 401 with the reason as the body."""
    refused = await expect_refused(ctx, "/guards/cookie", 401)
    assert refused.body == b"log in first"


@case("guards.refusal_logged_at_info")
async def refusal_logged_at_info(ctx: CaseContext) -> None:
    """A refusal is logged at INFO, naming the guard, and never as a warning or error."""
    await expect_refused(ctx, "/guards/token")
    logs = await ctx.logs()
    assert [r for r in logs if r["level"] in ("WARNING", "ERROR")] == []
    assert any(r["level"] == "INFO" and "needs_token" in r["message"] for r in logs), logs


@case("guards.view")
async def view(ctx: CaseContext) -> None:
    """A guard reads the path, converted parameters, query, headers, cookies and offered subprotocols."""
    seen = await _accepted(
        ctx, "/guards/inspect/7", query={"q": "x"}, headers={"x-h": "1", "cookie": "c=3"}, subprotocols=["p1"]
    )
    assert seen["state"]["seen"] == {
        "path": "/guards/inspect/7",
        "params": {"n": ["int", "7"]},
        "query": "x",
        "header": "1",
        "cookie": "3",
        "subprotocols": ["p1"],
    }


@case("guards.guard_error")
async def guard_error(ctx: CaseContext) -> None:
    """A guard that fails with another exception refuses with 403 and logs a WARNING with traceback."""
    await expect_refused(ctx, "/guards/broken")
    warnings = await ctx.logs("WARNING")
    assert len(warnings) == 1, warnings
    assert "broken" in warnings[0]["message"]
    assert warnings[0]["traceback"]


@case("guards.controller_level")
async def controller_level(ctx: CaseContext) -> None:
    """Guards declared on the controller apply to each of its endpoints."""
    await expect_refused(ctx, "/guards-team/any")
    assert (await _accepted(ctx, "/guards-team/any", headers={"x-team": "blue"}))["state"] == {"team": "blue"}


@case("guards.levels_add_up")
async def levels_add_up(ctx: CaseContext) -> None:
    """Controller and endpoint guards all run, the controller's first; their states merge."""
    await expect_refused(ctx, "/guards-team/admin", headers={"x-team": "blue"})
    await expect_refused(ctx, "/guards-team/admin", query={"token": "secret"})
    seen = await _accepted(ctx, "/guards-team/admin", query={"token": "secret"}, headers={"x-team": "red"})
    assert seen["state"] == {"team": "red", "user": "anonymous"}


@case("origin.cross_site_refused")
async def cross_site_refused(ctx: CaseContext) -> None:
    """A browser handshake from another site (its ``Origin`` is not the ``Host``) is refused by default."""
    await expect_refused(ctx, "/guards/origin", headers={"origin": "https://evil.example"})
    await expect_refused(ctx, "/guards/origin", headers={"origin": "null"})


@case("origin.same_origin_allowed")
async def same_origin_allowed(ctx: CaseContext) -> None:
    """A page served from the same host and port may connect; so may a client sending no ``Origin``."""
    host = (await _accepted(ctx, "/guards/origin"))["host"]
    assert (await _accepted(ctx, "/guards/origin", headers={"origin": f"http://{host}"}))["host"] == host


@case("origin.allowed_origins")
async def allowed_origins(ctx: CaseContext) -> None:
    """``allowed_origins`` adds origins; ``["*"]`` allows any."""
    assert await _accepted(ctx, "/guards/origin-listed", headers={"origin": "https://app.example"})
    await expect_refused(ctx, "/guards/origin-listed", headers={"origin": "https://evil.example"})
    assert await _accepted(ctx, "/guards/origin-any", headers={"origin": "https://evil.example"})
