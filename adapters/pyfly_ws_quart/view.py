"""The Quart view serving one endpoint, and how it turns Quart's cancellation into a disconnect.

Under the recorder (the usual case, :mod:`pyfly_ws_quart.recorder`) the view
is told of a disconnect and runs the session in Quart's handler task itself.
Once the session is over, a view whose client left ends cancelled, as Quart
ends a hand-written one.

Without it, Quart cancels that task when the client disconnects. Cancelling
the application's own code at any ``await`` would break the core's contract:
the handler must see :class:`~pyfly_ws.WebSocketDisconnect` from
``receive``/``send``, and ``on_disconnect`` must run to completion. So the
view then runs the session in a child task and supervises it (:func:`supervise`):

- A cancellation the connection counts as a disconnect (without the
  recorder, every one: its close code is unknowable, 1005) is taken back
  (``Task.uncancel``). The peer's close code is handed to the connection,
  which interrupts the child only while it waits in ``receive``/``send``.
  When the child is done, the view re-raises ``CancelledError``: Quart
  cancelled its task and expects it to end cancelled.
- Any other cancellation (``departure()`` is ``None``: a server shutdown) is genuine:
  it is passed on to the child, the view waits for the child to finish,
  and then re-raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from quart.globals import websocket_ctx

from pyfly_ws import Endpoint

from .connection import CancelledConnection, QuartConnection

__all__ = ["View", "make_view", "supervise"]

View = Callable[..., Awaitable[None]]
"""A Quart websocket view: keyword arguments are the raw path parameters."""


def make_view(endpoint: Endpoint, name: str) -> View:
    """The Quart view serving ``endpoint``, with ``name`` as its function name."""

    async def view(**raw_params: str) -> None:
        connection = QuartConnection.of(websocket_ctx.websocket)
        session = endpoint.serve(connection, raw_params)
        del raw_params  # not held for as long as the session lives
        if isinstance(connection, CancelledConnection):
            await supervise(connection, session, name)
        else:
            await session
            if connection.gone is not None:
                # End as a hand-written view whose client left ends: cancelled, so Quart skips what it
                # skips then (the after_websocket functions, its close).
                raise asyncio.CancelledError

    view.__name__ = view.__qualname__ = name
    view.__doc__ = f"WebSocket endpoint {endpoint.path}, served by {endpoint.qualname}."
    return view


async def supervise(connection: CancelledConnection, session: Coroutine[Any, Any, None], name: str = "session") -> None:
    """Run ``session`` in a child task, translating Quart's disconnect-cancellation (module docstring)."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    child = loop.create_task(session, name=f"pyfly_ws {name}")
    if task is None:  # pragma: no cover - a view always runs in a task
        await child
        return
    disconnected = False
    while not child.done():
        # A future the child's end resolves: awaiting it, unlike awaiting the task, leaves the child
        # alone when we are cancelled (what asyncio.shield does, in a third of the memory).
        ended = loop.create_future()
        child.add_done_callback(_Resolver(ended))
        try:
            await ended
        except asyncio.CancelledError:
            gone = connection.departure()
            if gone is None or task.uncancel() > 0:
                child.cancel()
                await asyncio.wait((child,))
                if not child.cancelled():
                    child.exception()  # retrieved: the cancellation is what propagates
                raise
            disconnected = True
            connection.peer_left(gone)
    child.result()
    if disconnected:
        # The error's traceback holds this frame, and Quart's task holds the error: without these
        # locals, that is no cycle, and the connection is freed without the garbage collector.
        del task, child, connection, session, ended
        raise asyncio.CancelledError


class _Resolver:
    """A done-callback that resolves ``future`` (unless it was cancelled meanwhile)."""

    __slots__ = ("future",)

    def __init__(self, future: asyncio.Future[None]) -> None:
        self.future = future

    def __call__(self, _: object) -> None:
        if not self.future.done():
            self.future.set_result(None)
