"""``PyflyASGIApp``: a framework-free ASGI application that routes WebSocket endpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from ..asgi_types import ASGIApp, Receive, Scope, Send
from ..discovery.pages import Page, pages_beside
from ..discovery.routing import NOT_FOUND, RouteTable
from ..exceptions import ConfigurationError
from ..hub import HubUnavailableError
from ..lifecycle.apps import drain_endpoints, registries, start_endpoints
from ..lifecycle.registry import Endpoint, SessionRegistry
from ..lifecycle.run import logger, refuse
from .connection import ASGIConnection

__all__ = ["PyflyASGIApp"]


Hook = Callable[[], Awaitable[None] | None]


class PyflyASGIApp:
    """Serves endpoints over plain ASGI; anything else goes to ``fallback`` if given.

    Without a fallback, an unknown WebSocket path is refused (HTTP 403), a plain
    HTTP request to an endpoint's path gets 426 Upgrade Required and any other
    HTTP request 404. ``on_startup`` and ``on_shutdown`` hooks (sync or async)
    run in the ASGI lifespan; on shutdown the live sessions are drained first
    (see :class:`~pyfly_ws.SessionRegistry`). With a fallback, the lifespan is
    the fallback's, and draining is the application's to call. ``pages``
    (:class:`~pyfly_ws.adapter.Page`) are served at their paths, ahead of the fallback.
    """

    connection_class: type[ASGIConnection] = ASGIConnection
    """The :class:`~pyfly_ws.Connection` built for each WebSocket; a subclass may change how it talks ASGI."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        *,
        fallback: ASGIApp | None = None,
        on_startup: Sequence[Hook] = (),
        on_shutdown: Sequence[Hook] = (),
        pages: Sequence[Page] = (),
    ) -> None:
        self.routes = RouteTable(endpoints)
        """The endpoints in routing precedence (the core's rule, as on every adapter)."""
        self.endpoints = self.routes.endpoints
        self.fallback = fallback
        self.on_startup = tuple(on_startup)
        self.on_shutdown = tuple(on_shutdown)
        self.pages: Mapping[str, Page] = pages_beside(self.endpoints, pages)
        """The pages served, by path."""

    @property
    def registry(self) -> SessionRegistry:
        """The live sessions of this application's endpoints (a new, empty one if it has none)."""
        found = registries(self.endpoints)
        return found[0] if found else SessionRegistry()

    def match(self, path: str) -> tuple[Endpoint, Mapping[str, str]] | None:
        """The endpoint routing ``path`` and its raw parameters, or ``None`` (see :meth:`RouteTable.match`)."""
        return self.routes.match(path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            found = self.routes.match(scope["path"])
            if found is not None:
                endpoint, params = found
                await endpoint.serve(self.connection_class(scope, receive, send), params)
            elif self.fallback is not None:
                await self.fallback(scope, receive, send)
            else:
                connection = self.connection_class(scope, receive, send)
                await refuse(None, connection, "no endpoint at this path", self.registry.figures)
        elif kind == "http" and scope["path"] in self.pages:
            await self.pages[scope["path"]](scope, receive, send)
        elif self.fallback is not None:
            await self.fallback(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "http":
            await self._http(scope, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                hooks, done = self.on_startup, "lifespan.startup"
            elif message["type"] == "lifespan.shutdown":
                hooks, done = self.on_shutdown, "lifespan.shutdown"
            else:
                continue
            try:
                if done == "lifespan.shutdown":
                    await drain_endpoints(self.endpoints)
                else:
                    await start_endpoints(self.endpoints)
                for hook in hooks:
                    result = hook()
                    if result is not None:
                        await result
            except Exception as exc:
                # A deployment problem pyfly-ws reports (Redis unreachable, a missing extra) is one line.
                explained = isinstance(exc, ConfigurationError | HubUnavailableError)
                logger.error("%s hook failed%s", done, f": {exc}" if explained else "", exc_info=not explained)
                await send({"type": f"{done}.failed", "message": repr(exc)})
                if done == "lifespan.startup":
                    return
            else:
                await send({"type": f"{done}.complete"})
            if done == "lifespan.shutdown":
                return

    async def _http(self, scope: Scope, send: Send) -> None:
        answer = self.routes.http_answer(scope["path"]) or NOT_FOUND
        await send({"type": "http.response.start", "status": answer.status, "headers": answer.raw_headers()})
        await send({"type": "http.response.body", "body": answer.content})
