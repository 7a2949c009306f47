"""``QuartConnection``: the :class:`~pyfly_ws.Connection` contract over Quart's websocket.

Quart signals a client disconnect by cancelling the handler task. Under the
recorder (:mod:`pyfly_ws_quart.recorder`, installed by every way of serving
endpoints from Quart) a pyfly-ws view is told instead: the connection asks its
:class:`~pyfly_ws_quart.recorder.Departure` to be told, and ``receive`` then
gets :data:`~pyfly_ws_quart.recorder.GONE` and raises
:class:`~pyfly_ws.WebSocketDisconnect` with the peer's close code. No task is
cancelled, so the session runs in Quart's handler task itself.

Without the recorder (an application whose websocket handler class could not
be extended), Quart's cancellation is the only signal. The view then runs the
session in a task of its own (:func:`pyfly_ws_quart.view.supervise`) over a
:class:`CancelledConnection`, which turns that cancellation into a disconnect
for the calls waiting in ``receive`` or ``send``. Either way, cancellation
never reaches the application's own code for a disconnect, just as on every
other adapter.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

from quart.wrappers import Websocket
from werkzeug.datastructures import Headers

from pyfly_ws import CloseCode, Handshake, WebSocketDisconnect
from pyfly_ws.adapter import RawHeaders, asyncio_task_getter

from .recorder import GONE, RECORD_KEY, Departure

__all__ = ["CancelledConnection", "QuartConnection"]

_T = TypeVar("_T")


class QuartConnection:
    """One Quart websocket, as the pyfly-ws core sees it, told of a disconnect by the recorder."""

    __slots__ = ("handshake", "websocket", "_departure", "_gone")

    def __init__(self, websocket: Websocket) -> None:
        scope: Any = websocket.scope
        self.handshake = Handshake.from_scope(scope)
        self.websocket = websocket
        """The native Quart websocket (the object behind ``quart.websocket``)."""
        self._departure: Departure | None = scope.get(RECORD_KEY)
        self._gone: WebSocketDisconnect | None = None
        if self._departure is not None:
            self._departure.tell()

    @classmethod
    def of(cls, websocket: Websocket) -> QuartConnection:
        """The connection for ``websocket``: a told one under the recorder, else a :class:`CancelledConnection`."""
        if websocket.scope.get(RECORD_KEY) is None:
            return CancelledConnection(websocket)
        return cls(websocket)

    @property
    def gone(self) -> tuple[int, str] | None:
        """The peer's close code and reason once it is known to have left, else ``None``.

        It left once its disconnect arrived (or the server refused a send: 1006).
        """
        left = self._gone
        if left is None and self._departure is not None:
            left = self.departure()
        return None if left is None else (left.code, left.reason)

    # -- the Connection contract ---------------------------------------------

    async def accept(self, subprotocol: str | None, headers: RawHeaders) -> None:
        """Complete the handshake; Quart sends ``headers`` (re-encoded as UTF-8) with the response."""
        # None without headers: Quart makes its Headers itself then, and copies any it is given.
        extra = None
        if headers:
            extra = Headers([(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers])
        await self._call(self.websocket.accept(extra, subprotocol))

    async def receive(self) -> str | bytes:
        """The next message: ``str`` for text, ``bytes`` for binary."""
        if self._gone is not None:
            raise self._error()
        try:
            message = await self.websocket.receive()
        except OSError as exc:
            raise await self._gone_error() from exc
        if message is GONE:
            self._gone = self.departure()
            cast("Departure", self._departure).again()  # for another task waiting in receive
            raise self._error()
        return message

    async def send(self, data: str | bytes) -> None:
        """Send a text frame for ``str``, a binary frame for ``bytes``."""
        if self._gone is not None:
            raise self._error()
        try:
            await self.websocket.send(data)
        except OSError as exc:  # the ASGI server refused a send: the client is gone
            raise await self._gone_error() from exc

    async def close(self, code: int, reason: str) -> None:
        """Close; before accept, Quart's close makes the server refuse the handshake (HTTP 403)."""
        if self._gone is not None:
            return
        with contextlib.suppress(OSError):  # the ASGI server's signal that the client is gone
            await self.websocket.close(code, reason)

    # -- how the peer left ---------------------------------------------------

    def departure(self) -> WebSocketDisconnect | None:
        """How the peer left, if it did: its close code and reason, as the ASGI server reported them.

        ``None`` when no disconnect was recorded, so a cancellation has another
        cause. Without the recorder, every cancellation counts as a disconnect
        with code 1005, because the code is unknowable.
        """
        if self._departure is None:
            return WebSocketDisconnect(CloseCode.NO_STATUS, "")
        event = self._departure.event
        if event is None:
            return None
        return WebSocketDisconnect(event.get("code", CloseCode.NO_STATUS), event.get("reason") or "")

    async def _call(self, call: Coroutine[Any, Any, _T]) -> _T:
        """Await one call to Quart, turning a refused send into a disconnect."""
        if self._gone is not None:
            call.close()
            raise self._error()
        try:
            return await call
        except OSError as exc:
            raise await self._gone_error() from exc

    def _error(self) -> WebSocketDisconnect:
        gone = self._gone or WebSocketDisconnect(CloseCode.ABNORMAL, "")
        return WebSocketDisconnect(gone.code, gone.reason)

    async def _gone_error(self) -> WebSocketDisconnect:
        """The error for a send the ASGI server refused (an ``OSError``) because the client is gone.

        The server may refuse before Quart's receiver task has read the
        disconnect event it already queued: yield once so it can, and the
        peer's own close code is reported instead of 1006.
        """
        self._left(asyncio.current_task())  # the outcome is a disconnect anyway
        departure = self._departure
        if self._gone is None and departure is not None and departure.event is None:
            await asyncio.sleep(0)
        if self._gone is None:
            self._gone = self.departure() or WebSocketDisconnect(CloseCode.ABNORMAL, "")
        return self._error()

    def _left(self, task: asyncio.Task[Any] | None) -> None:
        """``task`` is out of its call to Quart (only a :class:`CancelledConnection` keeps track)."""


class CancelledConnection(QuartConnection):
    """A Quart websocket whose disconnect arrives as the cancellation of the handler task (no recorder).

    The view runs the session in a child task and, on that cancellation, calls
    :meth:`peer_left`: every task waiting in ``receive``, ``send`` or
    ``accept`` at that moment is interrupted, takes its cancellation back and
    raises :class:`~pyfly_ws.WebSocketDisconnect`; a task that is elsewhere
    gets the error from its next call.
    """

    __slots__ = ("_waiting", "_interrupted", "_task_of")

    def __init__(self, websocket: Websocket) -> None:
        super().__init__(websocket)
        # Lists, not sets: one or two tasks at most, and an empty set takes four times the memory.
        self._waiting: list[asyncio.Task[Any]] = []  # tasks inside a call to Quart right now
        self._interrupted: list[asyncio.Task[Any]] = []  # of those, the ones peer_left() cancelled
        # Quart runs every view in a task: there always is a current one.
        self._task_of = cast("Callable[[], asyncio.Task[Any]]", asyncio_task_getter() or asyncio.current_task)

    async def receive(self) -> str | bytes:
        return await self._call(self.websocket.receive())

    async def send(self, data: str | bytes) -> None:
        await self._call(self.websocket.send(data))

    async def _call(self, call: Coroutine[Any, Any, _T]) -> _T:
        """Await one call to Quart, turning the view's interruption or a refused send into a disconnect."""
        if self._gone is not None:
            call.close()
            raise self._error()
        task = self._task_of()
        self._waiting.append(task)
        try:
            return await call
        except asyncio.CancelledError:
            if self._take_interruption(task):
                raise self._error() from None
            raise
        except OSError as exc:  # the ASGI server refused a send: the client is gone
            raise await self._gone_error() from exc
        finally:
            self._left(task)

    def peer_left(self, gone: WebSocketDisconnect) -> None:
        """Record that the peer left, and interrupt every task waiting in receive, send or accept.

        Each interrupted call takes its cancellation back (``Task.uncancel``)
        and raises :class:`~pyfly_ws.WebSocketDisconnect` instead. Several
        tasks may use the connection at once (one sending while another receives).
        """
        if self._gone is None:
            self._gone = gone
        for task in [t for t in self._waiting if t not in self._interrupted]:
            self._interrupted.append(task)
            task.cancel()

    def _left(self, task: asyncio.Task[Any] | None) -> None:
        if task in self._waiting:
            self._waiting.remove(task)

    def _take_interruption(self, task: asyncio.Task[Any]) -> bool:
        """Whether a cancellation being handled is peer_left()'s interruption, taken back here."""
        if task not in self._interrupted:
            return False
        self._interrupted.remove(task)
        # Another cancellation still pending (a timeout, a shutdown) wins.
        return task.uncancel() == 0
