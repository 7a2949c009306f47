"""Chat rooms in the browser, as a message-level controller on a hub: one process in memory, or several sharing Redis.

    pyfly-ws run examples.chat                 # then open http://127.0.0.1:8000/ in two tabs

Its AsyncAPI description is at http://127.0.0.1:8000/asyncapi (``.json`` and ``.yaml`` beside it).

Several processes (any adapter, any server), all in the same rooms, signing with one secret:

    export PYFLY_WS_CHAT_SECRET=$(python -c "import secrets; print(secrets.token_urlsafe(32))")
    python -m examples.chat --redis redis://127.0.0.1:6379/0 --port 8001
    python -m examples.chat --redis redis://127.0.0.1:6379/0 --port 8002

The page (``examples/chat.html``) signs in first: ``POST /login`` with a name gives it a
token (``examples/chat_signin.py``), which it offers as the subprotocol ``bearer.<token>``
beside ``chat.v1`` when it connects to ``/ws/chat/{room}``. Then it speaks the message
envelope (JSON text frames):

==========================  =================================================================
the client sends            ``{"type": "chat.send", "id": "c1", "data": {"text": "hi"}}``
it is answered              ``{"type": "reply", "id": "c1", "data": {"id": "…", "at": "…"}}``: the
                            "sent" receipt; a blank text, or one over 2,000 characters, is
                            answered ``{"type": "error", "id": "c1", "code": "invalid_payload", …}``
the others in the room get  ``{"type": "chat.message", "data": {"id", "name", "text", "at"}}``
on connecting               ``chat.welcome`` ``{"name", "room", "members"}`` to the newcomer,
                            ``room.joined`` ``{"name", "members"}`` to the others
``{"type": "chat.here"}``   the room gets ``room.here`` ``{"name"}`` (how a newcomer learns who is here)
on leaving                  ``room.left`` ``{"name", "members"}``
``auth.expiring``           the token expires soon (a minute ahead, or halfway for a shorter one): the
                            page gets a fresh one from ``POST /token`` and sends ``auth.refresh``
                            ``{"token"}``; the socket stays open. Unrefreshed, it closes with 3000.
==========================  =================================================================

Rooms keep their last 500 publications for five minutes, so every push from the
room carries its ``"position"``. A tab that loses its connection reconnects with
``?since=POSITION`` (the last one it got, or the one ``chat.welcome`` gave it)
and first receives every publication it missed, in order, then the push
``recovered`` ``{"room", "recovered", "missed", "replayed", "position"}``;
``recovered: false`` means they were no longer all kept. After an outage of
Redis, a room whose publications could not all be recovered gets ``resync``.

A member too slow to keep up is closed with 1013; everyone else keeps receiving.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyfly_ws import (
    Container,
    Limits,
    MessageError,
    WebSocketSession,
    create_app,
    emits,
    handshake_schema,
    message_mapping,
    registry_of,
    request_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.adapter import ASGIApp, Receive, Scope, Send
from pyfly_ws.asyncapi import AsyncAPI
from pyfly_ws.hub import HistoryPolicy, Hub, HubUnavailableError

from .chat_signin import SignIn

REDIS_ENV = "PYFLY_WS_CHAT_REDIS"
"""Set to a ``redis://`` URL to share the rooms with other processes (``--redis`` sets it)."""
PAGE = Path(__file__).with_name("chat.html").read_bytes()
MAX_TEXT = 2000
"""The longest message, in characters."""
HISTORY = HistoryPolicy(size=500, ttl=300)
"""What every room keeps for a tab that reconnects: its last 500 publications, for five minutes."""


@dataclass(frozen=True, slots=True)
class ChatSend:
    """The data of ``chat.send``: something to say, not blank, at most :data:`MAX_TEXT` characters."""

    text: str

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("the text is blank")
        if len(self.text) > MAX_TEXT:
            raise ValueError(f"the text is longer than {MAX_TEXT} characters")


@dataclass(frozen=True, slots=True)
class Receipt:
    """The reply to ``chat.send``: the message's id and when the server sent it to the room."""

    id: str
    at: str


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """The push ``chat.message``: what a member said."""

    id: str
    name: str
    text: str
    at: str


@dataclass(frozen=True, slots=True)
class Welcome:
    """The push ``chat.welcome``, to a newcomer: who it is, where, how many are in the room with it, and the
    room's position it joined at (to reconnect from, if it gets nothing before its connection drops)."""

    name: str
    room: str
    members: int
    position: str | None


@dataclass(frozen=True, slots=True)
class Presence:
    """The pushes ``room.joined`` and ``room.left``: who came or went, and how many are in the room now."""

    name: str
    members: int


def member_name(session: WebSocketSession) -> str:
    """The name the member signed in with (its token's ``name`` claim)."""
    principal = session.principal
    if principal is None:
        raise RuntimeError("the chat's endpoint needs its sign-in: build() declares its authenticator")
    return str(principal.claims.get("name") or "anonymous")


@rest_controller
@request_mapping("/ws")
@websocket_mapping("/chat/{room}", limits=Limits(max_message_size=16 * 1024, send_queue=256, overflow="close"))
@handshake_schema(
    query={
        "since": "Reconnecting: the position of the last push received; what came after it is replayed first.",
    }
)
@emits("chat.welcome", Welcome, description="To a newcomer: who it is, where, and how many are in the room.")
@emits("room.joined", Presence, description="To the others in the room: who came, and how many are in it now.")
@emits("room.left", Presence, description="To those still in the room: who went, and how many are left.")
@emits(
    "recovered",
    dict[str, Any],
    description="After reconnecting with `since`: whether every publication missed was replayed (the hub's push).",
)
@emits("resync", dict[str, str], description="After an outage: the room's publications may not all have arrived.")
class ChatController:
    """Every member of a room gets what anyone in it says, on whatever process they are connected to."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.node = uuid.uuid4().hex[:8]  # message ids stay unique across the processes sharing the rooms
        self.serial = itertools.count(1)

    async def on_connect(self, session: WebSocketSession) -> None:
        name, room = member_name(session), session.path_params["room"]
        session.state["name"] = name
        await session.accept()
        joined = await self.hub.join(session, room, since=session.query_params.get("since") or None)
        members = await self.hub.count(room)
        position = None if joined.position is None else str(joined.position)
        await session.emit("chat.welcome", Welcome(name, room, members, position))
        await self._tell(room, "room.joined", Presence(name, members), exclude=session)

    @message_mapping("chat.send")
    @emits("chat.message", ChatMessage, description="To the others in the room: what a member said.")
    async def send(self, session: WebSocketSession, data: ChatSend) -> Receipt:
        """Say something to the room: the others get it as `chat.message`; the reply is its receipt."""
        message = ChatMessage(f"{self.node}-{next(self.serial)}", session.state["name"], data.text, _now())
        try:
            await self.hub.publish_message(session.path_params["room"], "chat.message", message, exclude=session)
        except HubUnavailableError:  # Redis is down: nobody got it (a room with history stores it first)
            raise MessageError("unavailable", "the chat cannot reach its other servers; try again") from None
        return Receipt(message.id, message.at)

    @message_mapping("chat.here")
    @emits("room.here", dict[str, str], description="To the others in the room: the name of a member who is here.")
    async def here(self, session: WebSocketSession) -> None:
        """Tell the others who is here: how a newcomer learns who is in the room."""
        await self._tell(session.path_params["room"], "room.here", {"name": session.state["name"]}, exclude=session)

    async def on_disconnect(self, session: WebSocketSession) -> None:
        room = session.path_params["room"]
        await self.hub.leave(session, room)  # the hub also lets a session go by itself when it ends
        await self._tell(room, "room.left", Presence(session.state["name"], await self.hub.count(room)))

    async def _tell(self, room: str, type: str, data: Any, *, exclude: WebSocketSession | None = None) -> None:
        # Redis down: the room's news is lost (the hub logged the outage once); the members resync afterwards.
        with contextlib.suppress(HubUnavailableError):
            await self.hub.publish_message(room, type, data, exclude=exclude)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def with_page(app: ASGIApp, sign_in: SignIn | None = None) -> ASGIApp:
    """``app``, plus the chat page at ``/`` and, with ``sign_in``, its ``/login`` and ``/token`` (every other
    request goes to ``app``)."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in ("/", "/index.html"):
            headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(PAGE)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": PAGE})
        elif sign_in is not None and scope["type"] == "http" and scope["path"] in ("/login", "/token"):
            await sign_in(scope, receive, send)
        else:
            await app(scope, receive, send)

    serve.__wrapped__ = app  # type: ignore[attr-defined]  # the application inside, for `pyfly-ws routes`
    serve.pyfly_ws_registry = registry_of(app)  # type: ignore[attr-defined]  # drained by `pyfly-ws run`
    serve.pyfly_ws_pages = ["/"]  # type: ignore[attr-defined]  # printed by `pyfly-ws run`
    return serve


def build(adapter: str | None = None, redis_url: str | None = None, sign_in: SignIn | None = None) -> ASGIApp:
    """The chat application on ``adapter``, with an in-memory hub, or one on Redis at ``redis_url``; its
    members sign in with ``sign_in`` (by default, as ``PYFLY_WS_CHAT_SECRET`` and ``PYFLY_WS_CHAT_TOKEN_TTL`` say)."""
    sign_in = sign_in or SignIn.from_env(shared=redis_url is not None)
    hub = Hub(redis_url, history=HISTORY) if redis_url else Hub(history=HISTORY)
    container = Container()
    container.register_instance(hub)
    container.register(ChatController)
    described = AsyncAPI(title="pyfly-ws chat", version="1.0.0", description="Chat rooms in the browser.")
    served = create_app(container, adapter, services=[hub], asyncapi=described, authenticator=sign_in.authenticator)
    return with_page(served, sign_in)


app = build(redis_url=os.environ.get(REDIS_ENV) or None)


def main(argv: list[str] | None = None) -> None:
    """``python -m examples.chat [--redis URL] [--port N] [--adapter NAME] [--server NAME]``."""
    from pyfly_ws.servers.run import run_server

    parser = argparse.ArgumentParser(prog="python -m examples.chat", description="The pyfly-ws chat example.")
    parser.add_argument("--redis", metavar="URL", help="share rooms with other processes through Redis")
    parser.add_argument("--adapter", help="asgi (default), starlette, litestar or quart")
    parser.add_argument("--server", default="uvicorn", choices=["uvicorn", "hypercorn"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    served = build(args.adapter, args.redis)
    where = f"Redis at {args.redis}" if args.redis else "memory (this process only)"
    print(f"chat: open http://{args.host}:{args.port}/ (rooms in {where})", flush=True)
    run_server(args.server, served, args.host, args.port)


if __name__ == "__main__":
    main()
