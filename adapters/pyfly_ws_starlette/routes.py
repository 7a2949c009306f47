"""Native Starlette routes for pyfly-ws endpoints, for a Starlette or FastAPI app the user already has."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.routing import Router, WebSocketRoute
from starlette.websockets import WebSocket

from pyfly_ws import Endpoint, discover

from .connection import StarletteConnection

__all__ = ["endpoint_route", "mount", "route_path", "routes", "translate"]


def _param(name: str, is_path: bool) -> str:
    # Capture every parameter as a plain string; the core converts and checks its type.
    return f"{{{name}:path}}" if is_path else f"{{{name}}}"


def route_path(endpoint: Endpoint) -> str:
    """The endpoint's path in Starlette's syntax: ``/rooms/{room_id:int}`` becomes ``/rooms/{room_id}``."""
    return endpoint.template.render(_param)


def endpoint_route(endpoint: Endpoint) -> WebSocketRoute:
    """A ``WebSocketRoute`` serving one endpoint, named ``Controller.method``."""
    serve = endpoint.serve

    async def pyfly_ws_endpoint(websocket: WebSocket) -> None:
        await serve(StarletteConnection(websocket), websocket.path_params)

    pyfly_ws_endpoint.__qualname__ = f"pyfly_ws_endpoint[{endpoint.qualname}]"
    return WebSocketRoute(route_path(endpoint), pyfly_ws_endpoint, name=endpoint.qualname)


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
