"""FastAPI and Starlette applications with pyfly-ws endpoints mounted into them, served by the tests as they are.

``fastapi_app`` serves ``/ws/wait`` from the app and ``/v1/ws/echo`` from an
``APIRouter(prefix="/v1")``; ``starlette_app`` serves ``/ws/wait``. Each records its own lifespan in ``LIFESPAN``,
and the endpoints print how each session ended (for ``pyfly-ws run`` in a subprocess).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.applications import Starlette

from pyfly_ws import WebSocketSession, request_mapping, rest_controller, websocket_mapping
from pyfly_ws_starlette import mount

LIFESPAN: list[str] = []
"""``start`` and ``stop`` of the application's own lifespan, in order."""
ENDED: list[tuple[str, int | None, str | None]] = []
"""``(path, close code, close reason)`` of every session, appended by ``on_disconnect``."""


@rest_controller
@request_mapping("/ws")
class Waiting:
    """Sessions that stay open until the client or a drain ends them."""

    @websocket_mapping("/wait")
    async def wait(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("ready")
        async for text in session.iter_text():
            await session.send_text(text)

    def on_disconnect(self, session: WebSocketSession) -> None:
        ENDED.append((session.path, session.close_code, session.close_reason))
        print(f"on_disconnect {session.path} {session.close_code} {session.close_reason}", flush=True)


@rest_controller
@request_mapping("/ws")
class Echo:
    @websocket_mapping("/echo")
    async def echo(self, session: WebSocketSession) -> None:
        await session.accept()
        async for text in session.iter_text():
            await session.send_text(text)


@contextlib.asynccontextmanager
async def own_lifespan(app: Any) -> AsyncIterator[None]:
    LIFESPAN.append("start")
    yield
    LIFESPAN.append("stop")


def build_fastapi() -> FastAPI:
    """A FastAPI app: ``/ws/wait`` on the app, ``/v1/ws/echo`` in a prefixed router."""
    app = FastAPI(lifespan=own_lifespan)
    mount(app, Waiting)
    router = APIRouter(prefix="/v1")
    mount(router, Echo)
    app.include_router(router)
    return app


def build_starlette() -> Starlette:
    """A Starlette app with ``/ws/wait``."""
    app = Starlette(lifespan=own_lifespan)
    mount(app, Waiting)
    return app


fastapi_app = build_fastapi()
starlette_app = build_starlette()
