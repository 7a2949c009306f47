"""An application for ``pyfly-ws run tests.support.run_target`` (with ``--adapter NAME``) that records its life.

It writes to the file named by ``PYFLY_WS_TEST_RECORD``, one line each:
``started`` when the application's lifespan startup ran, and
``disconnect CODE REASON`` for every ``on_disconnect`` of ``/ws/held``.
"""

from __future__ import annotations

import os

from pyfly_ws import WebSocketSession, create_app, request_mapping, rest_controller, websocket_mapping

RECORD_ENV = "PYFLY_WS_TEST_RECORD"


def _record(line: str) -> None:
    path = os.environ.get(RECORD_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(line + "\n")


@rest_controller
@request_mapping("/ws")
class HeldController:
    """``/ws/held`` says ``ready`` and stays open until the client or a drain ends it; ``/ws/echo`` echoes."""

    @websocket_mapping("/held")
    async def hold(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("ready")
        async for _ in session.iter_text():
            pass

    @websocket_mapping("/echo")
    async def echo(self, session: WebSocketSession) -> None:
        await session.accept()
        while True:
            await session.send(await session.receive())

    def on_disconnect(self, session: WebSocketSession) -> None:
        if session.path == "/ws/held":
            _record(f"disconnect {session.close_code} {session.close_reason}")


class StartupRecorder:
    """A service, started on lifespan startup, that records ``started``."""

    async def start(self) -> None:
        _record("started")

    async def stop(self) -> None:
        pass


app = create_app(HeldController, services=[StartupRecorder()])  # on the adapter `pyfly-ws run --adapter` names
