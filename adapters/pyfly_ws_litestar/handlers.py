"""Route translation: each :class:`~pyfly_ws.Endpoint` becomes a native Litestar websocket route handler."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from litestar import WebSocket, websocket
from litestar.handlers import WebsocketRouteHandler

from pyfly_ws import Endpoint, discover
from pyfly_ws.adapter import RouteTable

from .connection import LitestarConnection, PyflySocket

__all__ = ["ENDPOINT_OPT", "handlers", "litestar_path", "route_handler", "route_handlers"]

ENDPOINT_OPT = "pyfly_ws_endpoint"
"""The ``opt`` key under which each route handler names its endpoint (``Controller.method``), e.g. for guards.

A name, not the :class:`~pyfly_ws.Endpoint` itself: Litestar deep-copies a
``Router``'s handlers, ``opt`` included, and an endpoint must stay one object.
"""

_NO_PARAMS: Mapping[str, str] = MappingProxyType({})


def litestar_path(endpoint: Endpoint) -> str:
    """The endpoint's path in Litestar's syntax, every parameter captured as a string.

    ``/rooms/{room_id:int}`` becomes ``/rooms/{room_id:str}``: the core converts
    and checks types, so a non-integer is refused by the same rule on every adapter.
    """
    return endpoint.template.render(lambda name, is_path: f"{{{name}:{'path' if is_path else 'str'}}}")


def route_handler(endpoint: Endpoint, ahead: RouteTable | None = None, **options: Any) -> WebsocketRouteHandler:
    """A Litestar websocket route handler serving ``endpoint``.

    ``options`` go to Litestar's ``websocket(...)`` decorator (``guards``,
    ``middleware``, ``opt``, ``exception_handlers``...). The handler takes only
    ``socket``, so Litestar's signature model and dependency injection have
    nothing to parse beyond what a hand-written handler costs; path parameters
    are read raw from the scope and converted by the core.

    ``ahead`` is the core's :meth:`~pyfly_ws.adapter.RouteTable.ahead_of` for
    this endpoint: the endpoints that win over it for some path. Litestar's
    router puts literal segments first by itself, but may pass them over in
    favour of this endpoint's ``{name:path}`` parameter; then a request goes
    to the endpoint the core's table picks, as on every other adapter.
    """
    serve = endpoint.serve
    path_names = tuple(name for name, conv in endpoint.template.params.items() if conv.name == "path")

    if not endpoint.template.params:

        async def handler(socket: WebSocket[Any, Any, Any]) -> None:
            await serve(LitestarConnection(socket), _NO_PARAMS)

    elif not path_names:

        async def handler(socket: WebSocket[Any, Any, Any]) -> None:
            await serve(LitestarConnection(socket), socket.scope["path_params"])

    else:

        async def handler(socket: WebSocket[Any, Any, Any]) -> None:
            # Litestar gives a path parameter with a leading slash ("/a/b"); the core's contract is "a/b".
            # The scope's dict is shared by Litestar's routing cache, so it is copied, never changed.
            raw = dict(socket.scope["path_params"])
            for name in path_names:
                raw[name] = raw[name].removeprefix("/")
            if ahead is not None:
                # The path relative to this endpoint's own template (a Router's prefix left out).
                found = ahead.match(endpoint.template.render(lambda name, _: raw[name]))
                if found is not None:
                    await found[0].serve(LitestarConnection(socket), found[1])
                    return
            await serve(LitestarConnection(socket), raw)

    handler.__name__ = endpoint.method
    handler.__qualname__ = endpoint.qualname
    opt = {**(options.pop("opt", None) or {}), ENDPOINT_OPT: endpoint.qualname}
    options.setdefault("name", f"pyfly_ws:{endpoint.controller.__module__}.{endpoint.qualname}")
    options.setdefault("websocket_class", PyflySocket)
    return websocket(litestar_path(endpoint), opt=opt, **options)(handler)


def route_handlers(endpoints: Iterable[Endpoint], **options: Any) -> list[WebsocketRouteHandler]:
    """One route handler per endpoint, in the given order; ``options`` as for :func:`route_handler`."""
    table = RouteTable(endpoints)
    return [route_handler(endpoint, _ahead(table, endpoint), **options) for endpoint in table.endpoints]


def _ahead(table: RouteTable, endpoint: Endpoint) -> RouteTable | None:
    """The core's table of what wins over ``endpoint``, for an endpoint with a ``{name:path}`` parameter only."""
    if not any(segment.is_path for segment in endpoint.template.segments):
        return None
    return table.ahead_of(endpoint)


def handlers(source: object, **options: Any) -> list[WebsocketRouteHandler]:
    """Native Litestar route handlers for every endpoint in ``source``, for ``Litestar(route_handlers=[...])``.

    ``source`` is anything :func:`pyfly_ws.discover` accepts; ``options``
    (``guards``, ``middleware``, ``opt``...) apply to every handler. Put the
    list in a ``litestar.Router(path="/prefix", ...)`` to serve it under a prefix.
    """
    return route_handlers(discover(source), **options)
