"""Applications the native-transport tests serve (``python -m pyfly_ws run tests.native.apps:NAME --server picows``)."""

from __future__ import annotations

import os
from typing import Any

import anyio

from pyfly_ws import (
    ConfigurationError,
    Limits,
    SessionRegistry,
    WebSocketSession,
    create_app,
    request_mapping,
    rest_controller,
    websocket_mapping,
)


@rest_controller
@request_mapping("/ws")
class NativeController:
    """``/ws/echo`` echoes; ``/ws/pid`` says which process serves it; ``/ws/still`` accepts and never reads."""

    @websocket_mapping("/echo")
    async def echo(self, session: WebSocketSession) -> None:
        await session.accept()
        while True:
            await session.send(await session.receive())

    @websocket_mapping("/pid")
    async def pid(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text(str(os.getpid()))
        async for _ in session.iter_text():
            pass

    @websocket_mapping("/still")
    async def still(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("not reading")
        await anyio.sleep_forever()


def build() -> Any:
    """Echo, pid and a handler that does not read, with the AsyncAPI pages; 64 KiB messages at most."""
    return create_app(
        NativeController,
        limits=Limits(max_message_size=64 * 1024),
        asyncapi="/asyncapi",
        registry=SessionRegistry(drain_timeout=1.0),
    )


app = build()

fallback_app = create_app(NativeController, fallback=app)
"""An application with an ASGI fallback, which the native transport refuses to serve in part."""


autobahn_app = create_app(NativeController, limits=Limits(max_message_size=16 * 1024 * 1024))
"""``/ws/echo`` for Autobahn|Testsuite's fuzzing client, whose largest messages are 16 MiB."""


class FailingStart:
    """A service whose start fails, as an unreachable Redis would."""

    async def start(self) -> None:
        raise ConfigurationError("the test service cannot start")

    async def stop(self) -> None:
        pass


failing_app = create_app(NativeController, services=[FailingStart()])
"""An application whose lifespan startup fails."""
