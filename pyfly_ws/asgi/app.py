"""``PyflyASGIApp``: a framework-free ASGI application that routes WebSocket endpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from ..asgi_types import ASGIApp, Receive, Scope, Send
from ..exceptions import ConfigurationError
from ..hub import HubUnavailableError
from ..lifecycle.endpoint import Endpoint
from ..lifecycle.registry import SessionRegistry, drain_endpoints, registries, start_endpoints
from ..lifecycle.run import logger, refuse
from .connection import ASGIConnection

__all__ = ["PyflyASGIApp"]

_NO_PARAMS: dict[str, str] = {}

Hook = Callable[[], Awaitable[None] | None]


class PyflyASGIApp:
    """Serves endpoints over plain ASGI; anything else goes to ``fallback`` if given.

    Without a fallback, an unknown WebSocket path is refused (HTTP 403), a plain
    HTTP request to an endpoint's path gets 426 Upgrade Required and any other
    HTTP request 404. ``on_startup`` and ``on_shutdown`` hooks (sync or async)
    run in the ASGI lifespan; on shutdown the live sessions are drained first
    (see :class:`~pyfly_ws.SessionRegistry`). With a fallback, the lifespan is
    the fallback's, and draining is the application's to call.
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
    ) -> None:
        self.endpoints = tuple(endpoints)
        # Paths without parameters, looked up before any pattern is tried: the endpoint the scan
        # would find first (one with parameters listed earlier may match the same path, and wins).
        self._exact: dict[str, Endpoint] = {}
        for index, endpoint in enumerate(self.endpoints):
            path = endpoint.template.path
            if (
                not endpoint.template.params
                and endpoint.template.match_raw(path) == {}
                and all(earlier.template.match_raw(path) is None for earlier in self.endpoints[:index])
            ):
                self._exact.setdefault(path, endpoint)
        self.fallback = fallback
        self.on_startup = tuple(on_startup)
        self.on_shutdown = tuple(on_shutdown)

    @property
    def registry(self) -> SessionRegistry:
        """The live sessions of this application's endpoints (a new, empty one if it has none)."""
        found = registries(self.endpoints)
        return found[0] if found else SessionRegistry()

    def match(self, path: str) -> tuple[Endpoint, dict[str, str]] | None:
        """The endpoint routing ``path`` and its raw parameters, or ``None``.

        Like every framework router, this matches the path's shape only; the
        endpoint then converts the parameters and refuses values that do not
        fit their types, so a mismatch is refused the same way on every adapter.
        """
        exact = self._exact.get(path)
        if exact is not None:
            return exact, {}
        return self._scan(path)

    def _scan(self, path: str) -> tuple[Endpoint, dict[str, str]] | None:
        """The first endpoint whose pattern matches ``path``, and its raw parameters."""
        for endpoint in self.endpoints:
            params = endpoint.template.match_raw(path)
            if params is not None:
                return endpoint, params
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            # match(), without the tuple and the dict it makes for an exact path: once per connection.
            endpoint: Endpoint | None = self._exact.get(scope["path"])
            params: dict[str, str] = _NO_PARAMS
            if endpoint is None and (found := self._scan(scope["path"])) is not None:
                endpoint, params = found
            if endpoint is not None:
                await endpoint.serve(self.connection_class(scope, receive, send), params)
            elif self.fallback is not None:
                await self.fallback(scope, receive, send)
            else:
                await refuse(None, self.connection_class(scope, receive, send), "no endpoint at this path")
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
        if self.match(scope["path"]) is not None:
            status, body, extra = 426, b"Upgrade Required: this is a WebSocket endpoint\n", [(b"upgrade", b"websocket")]
        else:
            status, body, extra = 404, b"Not Found\n", []
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers + extra})
        await send({"type": "http.response.body", "body": body})
