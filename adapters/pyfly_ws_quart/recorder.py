"""Recording how the peer left, which Quart otherwise forgets, and telling the view instead of cancelling it.

Quart's ASGI websocket handler reads the ``websocket.disconnect`` event, drops
it, and cancels the handler task. The close code and reason the peer sent are
lost with it. :class:`DisconnectRecorder` wraps the ASGI ``receive`` callable
to keep that event in a :class:`Departure` in the connection's scope, where
:class:`~pyfly_ws_quart.QuartConnection` finds it.

A pyfly-ws view asks to be *told* (:meth:`Departure.tell`): the disconnect
then reaches it as :data:`GONE` from its next ``websocket.receive()``, and
Quart does not cancel the handler task, so the session needs no task of its
own. Any other view (a hand-written one in the same application) is
cancelled, as Quart does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, cast

from quart import Quart
from quart.asgi import ASGIWebsocketConnection

from pyfly_ws.adapter import asyncio_task_getter, logger

if TYPE_CHECKING:
    from hypercorn.typing import ASGIReceiveCallable, ASGIReceiveEvent, ASGISendCallable

__all__ = ["GONE", "RECORD_KEY", "Departure", "DisconnectRecorder", "install_recorder"]

RECORD_KEY = "pyfly_ws_quart.disconnect"
"""The scope key holding the connection's :class:`Departure`."""

GONE: Any = object()
"""What ``websocket.receive()`` returns to a told view once the peer is gone (never a message)."""


class Departure:
    """How the peer left (once it has), and whether the view is told of it rather than cancelled."""

    __slots__ = ("event", "told", "_queue")

    def __init__(self, queue: asyncio.Queue[Any]) -> None:
        self.event: dict[str, Any] | None = None
        """The ``websocket.disconnect`` event, once it arrived."""
        self.told = False
        """Whether the view reads the disconnect as :data:`GONE` (see :meth:`tell`)."""
        self._queue = queue  # Quart's queue of received messages, which websocket.receive() reads

    def tell(self) -> None:
        """Have the disconnect delivered as :data:`GONE` instead of cancelling the handler task.

        Called by the view before its first ``await``. A view that asks must
        read until it gets :data:`GONE`, or return; Quart ends the connection
        when the handler returns.
        """
        self.told = True

    def gone(self, event: Mapping[str, Any]) -> bool:
        """Record the disconnect ``event``; ``True`` if the view is told (and :data:`GONE` is queued for it)."""
        self.event = dict(event)
        if self.told:
            self._queue.put_nowait(GONE)
        return self.told

    def again(self) -> None:
        """Queue :data:`GONE` once more, for another task that may be waiting in ``receive``."""
        self._queue.put_nowait(GONE)


class DisconnectRecorder(ASGIWebsocketConnection):
    """Quart's ASGI websocket handler, keeping the peer's disconnect event in the scope."""

    def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> Coroutine[Any, Any, None]:
        """Serve the connection as Quart does, through a ``receive`` that records the disconnect (await it).

        A plain function returning Quart's coroutine: a connection holds one frame less while it is open.
        """
        departure = Departure(self.queue)
        scope = cast("dict[str, Any]", self.scope)
        scope[RECORD_KEY] = departure
        scope.setdefault("scheme", "ws")  # optional in ASGI (daphne leaves it out), required by Quart
        relay = _Relay(receive, send, departure)
        return super().__call__(relay.receive, relay.send)


class _Relay:
    """The server's ``receive`` and ``send`` as Quart gets them: a disconnect is recorded (and held back from
    Quart for a told view), a close waits for no receive.

    One small object per connection rather than closures: these live as long as the connection.
    """

    __slots__ = ("_receive", "_send", "_departure", "_task_of", "_receiving", "_withdrawn", "_closed")

    def __init__(self, receive: ASGIReceiveCallable, send: ASGISendCallable, departure: Departure) -> None:
        self._receive = receive
        self._send = send
        self._departure = departure
        self._task_of = asyncio_task_getter() or asyncio.current_task  # cheaper than current_task on 3.11
        # Quart's receiver task alone calls receive(): one task at most waits in it.
        self._receiving: asyncio.Task[Any] | None = None  # the task waiting in the server's receive, if one is
        self._withdrawn = False  # whether send() cancelled that receive for a close
        self._closed: asyncio.Event | None = None  # set once a close withdrew a receive (made only then)

    async def receive(self) -> ASGIReceiveEvent:
        # Quart always keeps a receive in flight. Granian does not send a close frame while one
        # is, so send() withdraws it (cancels the receiving task here) before a close.
        while True:
            task = self._task_of()
            assert task is not None
            self._receiving = task
            try:
                event = await self._receive()
                break
            except asyncio.CancelledError:
                if not self._withdrawn or task.uncancel() > 0:
                    raise
                self._withdrawn = False
            finally:
                self._receiving = None
            assert self._closed is not None
            await self._closed.wait()  # withdrawn for a close: receive again once it is sent
        if event["type"] == "websocket.disconnect":
            if self._departure.gone(event):
                # Told: Quart never sees the disconnect, so it does not cancel the handler. It cancels
                # this receive instead, once the handler has returned. Without the task in a local, the
                # cancellation's traceback (which the task keeps) does not hold the task: no cycle.
                del task
                await asyncio.get_running_loop().create_future()
        elif event.get("bytes") == b"":
            # Quart queues ``event["bytes"] or event["text"]``: an empty binary
            # frame would become ``None`` or a KeyError. Make it come out as b"".
            return cast("ASGIReceiveEvent", {"type": "websocket.receive", "bytes": b"", "text": b""})
        return event

    async def send(self, event: Any) -> None:
        if event["type"] != "websocket.close":
            await self._send(event)
            return
        if self._departure.event is not None:
            # The peer is gone: Quart's own close after a told view returned goes nowhere. Sent, the
            # server's refusal would travel up through Quart's tasks, and leave a cycle of them behind.
            return
        if self._closed is None:
            self._closed = asyncio.Event()
        task = self._receiving
        if task is not None and not self._withdrawn:
            self._withdrawn = True
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
