"""Recording how the peer left, which Quart otherwise forgets.

Quart's ASGI websocket handler reads the ``websocket.disconnect`` event, drops
it, and cancels the handler task. The close code and reason the peer sent are
lost with it. :class:`DisconnectRecorder` wraps the ASGI ``receive`` callable
to keep that event in the connection's scope, where
:class:`~pyfly_ws_quart.QuartConnection` finds it. It also tells a real
disconnect apart from any other reason the handler task might be cancelled.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

from quart import Quart
from quart.asgi import ASGIWebsocketConnection

from pyfly_ws.adapter import logger

if TYPE_CHECKING:
    from hypercorn.typing import ASGIReceiveCallable, ASGIReceiveEvent, ASGISendCallable

__all__ = ["RECORD_KEY", "DisconnectRecorder", "install_recorder"]

RECORD_KEY = "pyfly_ws_quart.disconnect"
"""The scope key holding a list that receives the ``websocket.disconnect`` event, once it arrives."""


class DisconnectRecorder(ASGIWebsocketConnection):
    """Quart's ASGI websocket handler, keeping the peer's disconnect event in the scope."""

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        """Serve the connection as Quart does, through a ``receive`` that records the disconnect."""
        record: list[dict[str, Any]] = []
        scope = cast("dict[str, Any]", self.scope)
        scope[RECORD_KEY] = record
        scope.setdefault("scheme", "ws")  # optional in ASGI (daphne leaves it out), required by Quart
        relay = _Relay(receive, send, record)
        await super().__call__(relay.receive, relay.send)


class _Relay:
    """The server's ``receive`` and ``send`` as Quart gets them: a disconnect is recorded, a close waits for no receive.

    One small object per connection rather than closures: these live as long as the connection.
    """

    __slots__ = ("_receive", "_send", "_record", "_receiving", "_withdrawn", "_closed")

    def __init__(self, receive: ASGIReceiveCallable, send: ASGISendCallable, record: list[dict[str, Any]]) -> None:
        self._receive = receive
        self._send = send
        self._record = record
        self._receiving: list[asyncio.Task[Any]] = []  # the task waiting in the server's receive, if one is
        self._withdrawn: list[asyncio.Task[Any]] = []  # that task, once send() cancelled its receive for a close
        self._closed: asyncio.Event | None = None  # set once a close withdrew a receive (made only then)

    async def receive(self) -> ASGIReceiveEvent:
        # Quart always keeps a receive in flight. Granian does not send a close frame while one
        # is, so send() withdraws it (cancels the receiving task here) before a close.
        while True:
            task = asyncio.current_task()
            assert task is not None
            self._receiving.append(task)
            try:
                event = await self._receive()
                break
            except asyncio.CancelledError:
                if task not in self._withdrawn or task.uncancel() > 0:
                    raise
                self._withdrawn.remove(task)
            finally:
                self._receiving.remove(task)
            assert self._closed is not None
            await self._closed.wait()  # withdrawn for a close: receive again once it is sent
        if event["type"] == "websocket.disconnect":
            self._record.append(dict(event))
        elif event.get("bytes") == b"":
            # Quart queues ``event["bytes"] or event["text"]``: an empty binary
            # frame would become ``None`` or a KeyError. Make it come out as b"".
            return cast("ASGIReceiveEvent", {"type": "websocket.receive", "bytes": b"", "text": b""})
        return event

    async def send(self, event: Any) -> None:
        if event["type"] != "websocket.close":
            await self._send(event)
            return
        if self._closed is None:
            self._closed = asyncio.Event()
        for task in self._receiving:
            if task not in self._withdrawn:
                self._withdrawn.append(task)
                task.cancel()
        if self._withdrawn:
            await asyncio.sleep(0)  # the receive is withdrawn before the close goes out
        try:
            await self._send(event)
        finally:
            self._closed.set()


def install_recorder(app: Quart) -> bool:
    """Make ``app`` serve websockets through a :class:`DisconnectRecorder`; ``False`` if it cannot.

    An application that already uses its own subclass of Quart's handler gets
    a combined class. One with an unrelated handler class is left alone:
    disconnects are then reported with code 1005 (no status).
    """
    current: type[Any] = app.asgi_websocket_class
    if issubclass(current, DisconnectRecorder):
        return True
    if current is ASGIWebsocketConnection:
        app.asgi_websocket_class = DisconnectRecorder
        return True
    if issubclass(current, ASGIWebsocketConnection):
        app.asgi_websocket_class = type(f"Recording{current.__name__}", (DisconnectRecorder, current), {})
        return True
    logger.warning(
        "%s uses its own websocket handler class %s; pyfly-ws cannot learn the close code of "
        "a client that disconnects and reports 1005",
        app.name,
        current.__qualname__,
    )
    return False
