"""``NativeServer``: an application's endpoints and pages, served on picows in one event loop.

It serves what pyfly-ws itself routes in a :class:`~pyfly_ws.asgi.PyflyASGIApp`
(the ``asgi`` adapter's application): its WebSocket endpoints and its pages
(the AsyncAPI documents, the Prometheus page). The application's ASGI
lifespan runs as under any ASGI server (the hub starts, the hooks run), and
on the first SIGINT or SIGTERM the sessions are drained (close 1001) before
the lifespan shutdown; another signal, a second or more later, stops at once.

An endpoint-only server answers everything else itself: a plain HTTP request
to an endpoint's path gets 426, to any other path 404, a method other than
``GET``/``HEAD`` at a page 405, a malformed head 400, a head over 16 KiB 431.
It has no HTTP routes of its own, so an application with a ``fallback`` (or
one built by another adapter, whose framework routes HTTP) is refused with a
:class:`~pyfly_ws.ConfigurationError` rather than served in part.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from ..asgi.app import PyflyASGIApp
from ..asgi.lifespan import Lifespan
from ..discovery.routing import NOT_FOUND
from ..exceptions import ConfigurationError
from ..lifecycle.apps import largest_message_size
from ..lifecycle.run import refuse
from ..session.connection import Handshake
from .connection import NativeConnection
from .http import RequestHead
from .protocol import HandshakeProtocol

__all__ = ["REPEAT_WINDOW", "NativeServer", "native_app"]

REPEAT_WINDOW = 1.0
"""Seconds after the first signal during which another one is the same request (a worker gets SIGTERM both from
its process group and from the parent passing it on); a signal after that stops at once."""


def native_app(app: object) -> PyflyASGIApp:
    """``app`` if the native transport can serve all of it, else a :class:`~pyfly_ws.ConfigurationError` saying why."""
    if not isinstance(app, PyflyASGIApp):
        raise ConfigurationError(
            f"the picows transport serves applications of the asgi adapter, not a {type(app).__name__}: "
            "build it with create_app(source) or create_app(source, adapter='asgi')"
        )
    if app.fallback is not None:
        raise ConfigurationError(
            "the picows transport serves WebSocket endpoints and pages only: this application has a fallback "
            "ASGI app for its other requests; serve it on an ASGI server (uvicorn)"
        )
    return app


def _subprotocols(head: RequestHead) -> tuple[str, ...]:
    offered: list[str] = []
    for name, value in head.headers:
        if name == b"sec-websocket-protocol":
            offered += [item.strip() for item in value.decode("latin-1").split(",") if item.strip()]
    return tuple(offered)


class NativeServer:
    """Serves one :class:`~pyfly_ws.asgi.PyflyASGIApp` on picows; :meth:`serve` runs it on a bound socket."""

    def __init__(self, app: object) -> None:
        self.app = native_app(app)
        self.routes = self.app.routes
        self.pages = self.app.pages
        self.figures = self.app.registry.figures
        self.max_size = largest_message_size(self.routes.endpoints)
        """The largest message any endpoint accepts: picows refuses a larger frame (1009) while reading it."""
        self.tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    # One connection ------------------------------------------------------------------------------

    def dispatch(self, head: HandshakeProtocol, request: RequestHead) -> None:
        """Start a session for a WebSocket handshake, or answer ``request`` over HTTP."""
        if request.upgrade and request.method == "GET":
            handshake = Handshake(
                request.path, request.query_string, request.headers, head.peer(), _subprotocols(request)
            )
            connection = NativeConnection(head, handshake, self.max_size)
            head.connection = connection
            found = self.routes.match(request.path)
            if found is not None:
                endpoint, params = found
                self._start(endpoint.serve(connection, params))
            else:
                self._start(refuse(None, connection, "no endpoint at this path", self.figures))
            return
        page = self.pages.get(request.path)
        if page is not None:
            handshake = Handshake(request.path, request.query_string, request.headers, head.peer(), ())
            self._start(self._page(head, request.method, page.answer(request.method, handshake)))
            return
        head.answer(self.routes.http_answer(request.path) or NOT_FOUND)

    async def _page(self, head: HandshakeProtocol, method: str, answer: Awaitable[Any]) -> None:
        head.answer(await answer, body=method.upper() != "HEAD")

    def _start(self, work: Awaitable[None]) -> None:
        assert self._loop is not None
        task: asyncio.Task[None] = self._loop.create_task(work)  # type: ignore[arg-type]
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # The server's life ---------------------------------------------------------------------------

    async def serve(
        self, sock: socket.socket, *, ready: Callable[[], None] | None = None, stop: asyncio.Event | None = None
    ) -> None:
        """Run the lifespan startup, serve ``sock`` until SIGINT/SIGTERM, drain, run the lifespan shutdown.

        With ``stop``, the server stops when it is set instead, and no signal
        handler is installed (for a server run inside another program's loop).
        """
        loop = self._loop = asyncio.get_running_loop()
        lifespan = Lifespan(self.app)
        running = loop.create_task(lifespan.run())
        try:
            await lifespan.startup(math.inf)
        except RuntimeError:  # the application logged why, in one line
            await running
            raise SystemExit(3) from None
        server = await loop.create_server(lambda: HandshakeProtocol(self), sock=sock, backlog=2048)
        signals = stop is None
        stop = asyncio.Event() if stop is None else stop
        first: float | None = None

        def on_signal() -> None:
            nonlocal first
            if first is None:
                first = loop.time()
                stop.set()
            elif loop.time() - first >= REPEAT_WINDOW:  # a second signal: stop now, whatever is still draining
                for task in list(self.tasks):
                    task.cancel()
                running.cancel()

        if signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, on_signal)
        try:
            if ready is not None:
                ready()
            await stop.wait()
            with contextlib.suppress(RuntimeError):  # a failed hook: the application logged it
                await lifespan.shutdown(math.inf)  # drains the sessions (1001), stops the hub, runs the hooks
        finally:
            if signals:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
            server.close()
            for task in list(self.tasks):
                task.cancel()
            if self.tasks:
                await asyncio.wait(list(self.tasks), timeout=5.0)
