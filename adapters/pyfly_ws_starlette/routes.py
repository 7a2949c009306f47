"""Native Starlette routes for pyfly-ws endpoints, for a Starlette or FastAPI app the user already has."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.routing import Router, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from pyfly_ws import Endpoint, discover

from .connection import StarletteConnection

__all__ = ["EndpointApp", "endpoint_route", "mount", "route_path", "routes", "translate"]


def _param(name: str, is_path: bool) -> str:
    # Capture every parameter as a plain string; the core converts and checks its type.
    return f"{{{name}:path}}" if is_path else f"{{{name}}}"


def route_path(endpoint: Endpoint) -> str:
    """The endpoint's path in Starlette's syntax: ``/rooms/{room_id:int}`` becomes ``/rooms/{room_id}``."""
    return endpoint.template.render(_param)


class EndpointApp:
    """The ASGI application of one endpoint's route.

    Starlette hands an object that is not a function the raw ASGI ``receive``
    and ``send`` (middleware included), so messages skip the native socket's
    per-message bookkeeping; the handshake and the close still go through it.
    """

    __slots__ = ("endpoint", "_serve")

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._serve = endpoint.serve

    def __repr__(self) -> str:
        return f"<pyfly_ws endpoint {self.endpoint.qualname}>"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        await self._serve(StarletteConnection(websocket, receive, send), scope.get("path_params") or {})


def endpoint_route(endpoint: Endpoint) -> WebSocketRoute:
    """A ``WebSocketRoute`` serving one endpoint, named ``Controller.method``."""
    return WebSocketRoute(route_path(endpoint), EndpointApp(endpoint), name=endpoint.qualname)


def translate(endpoints: Iterable[Endpoint]) -> list[WebSocketRoute]:
    """Routes for already discovered endpoints, in the order given (discovery puts the most specific first)."""
    return [endpoint_route(endpoint) for endpoint in endpoints]


def routes(source: object) -> list[WebSocketRoute]:
    """``WebSocketRoute``s for every endpoint in ``source`` (anything :func:`pyfly_ws.discover` accepts).

    They work in any Starlette router: ``Starlette(routes=[*routes(src), ...])``,
    ``FastAPI(routes=...)``, ``app.router.routes.extend(routes(src))``, or a
    ``Mount("/prefix", routes=routes(src))``.
    """
    return translate(discover(source))


def mount(app: Starlette | Router, source: object) -> None:
    """Add the routes for every endpoint in ``source`` to an existing Starlette or FastAPI app (or router).

    They go in front of the app's own routes: a ``WebSocketRoute`` matches
    WebSocket requests only, so no HTTP route is hidden, while a catch-all
    ``Mount("/", ...)`` of the app cannot hide an endpoint.
    """
    router = app if isinstance(app, Router) else app.router
    router.routes[0:0] = routes(source)
