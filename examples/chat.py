"""Chat rooms in the browser, on a hub: one process in memory, or several sharing Redis.

    pyfly-ws run examples.chat                 # then open http://127.0.0.1:8000/ in two tabs

Several processes (any adapter, any server), all in the same rooms:

    python -m examples.chat --redis redis://127.0.0.1:6379/0 --port 8001
    python -m examples.chat --redis redis://127.0.0.1:6379/0 --port 8002

The page (``examples/chat.html``) speaks JSON over ``/ws/chat/{room}?name=NAME``:
it sends ``{"type": "say", "text": ...}`` and ``{"type": "here"}``, and receives
``message``, ``join``, ``here`` and ``leave`` events. A member too slow to keep
up is closed with 1013; everyone else keeps receiving.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path
from typing import Any

from pyfly_ws import (
    Container,
    Limits,
    WebSocketSession,
    create_app,
    registry_of,
    request_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.adapter import ASGIApp, Receive, Scope, Send
from pyfly_ws.hub import Hub, HubUnavailableError

REDIS_ENV = "PYFLY_WS_CHAT_REDIS"
"""Set to a ``redis://`` URL to share the rooms with other processes (``--redis`` sets it)."""
PAGE = Path(__file__).with_name("chat.html").read_bytes()


@rest_controller
@request_mapping("/ws/chat")
class ChatController:
    """Every member of a room gets what anyone in it says, on whatever process they are connected to."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    @websocket_mapping("/{room}", limits=Limits(max_message_size=16 * 1024, send_queue=256, overflow="close"))
    async def chat(self, session: WebSocketSession) -> None:
        name = (session.query_params.get("name") or "anonymous").strip()[:40] or "anonymous"
        room: str = session.path_params["room"]
        await session.accept()
        await self.hub.join(session, room)
        try:
            await self._tell(room, {"type": "join", "name": name, "count": await self.hub.count(room)})
            async for message in session.iter_json():
                kind = message.get("type") if isinstance(message, dict) else None
                if kind == "say" and isinstance(message.get("text"), str):
                    await self._tell(room, {"type": "message", "name": name, "text": message["text"][:2000]})
                elif kind == "here":
                    await self._tell(room, {"type": "here", "name": name})
        finally:
            await self.hub.leave(session, room)
            await self._tell(room, {"type": "leave", "name": name, "count": await self.hub.count(room)})

    async def _tell(self, room: str, event: dict[str, Any]) -> None:
        # Redis down: the members on this process got it already, and the hub logged the outage once.
        with contextlib.suppress(HubUnavailableError):
            await self.hub.publish_json(room, event)


def with_page(app: ASGIApp) -> ASGIApp:
    """``app``, plus the chat page at ``/`` (every other request goes to ``app``)."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in ("/", "/index.html"):
            headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(PAGE)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": PAGE})
        else:
            await app(scope, receive, send)

    serve.__wrapped__ = app  # type: ignore[attr-defined]  # the application inside, for `pyfly-ws routes`
    serve.pyfly_ws_registry = registry_of(app)  # type: ignore[attr-defined]  # drained by `pyfly-ws run`
    serve.pyfly_ws_pages = ["/"]  # type: ignore[attr-defined]  # printed by `pyfly-ws run`
    return serve


def build(adapter: str | None = None, redis_url: str | None = None) -> ASGIApp:
    """The chat application on ``adapter``, with an in-memory hub, or one on Redis at ``redis_url``."""
    hub = Hub(redis_url) if redis_url else Hub()
    container = Container()
    container.register_instance(hub)
    container.register(ChatController)
    return with_page(create_app(container, adapter, services=[hub]))


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
