"""Native Starlette routes for pyfly-ws endpoints, for a Starlette or FastAPI app the user already has."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence

from starlette.applications import Starlette
from starlette.routing import Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send

from pyfly_ws import Endpoint, Service, SessionRegistry, discover
from pyfly_ws.adapter import REGISTRY_ATTRIBUTE, Page, pages_beside

from .connection import StarletteConnection
from .lifespan import draining_lifespan

__all__ = ["EndpointApp", "endpoint_route", "mount", "page_routes", "route_path", "routes", "translate"]


def _param(name: str, is_path: bool) -> str:
    # Capture every parameter as a plain string; the core converts and checks its type.
    return f"{{{name}:path}}" if is_path else f"{{{name}}}"


def route_path(endpoint: Endpoint) -> str:
    """The endpoint's path in Starlette's syntax: ``/rooms/{room_id:int}`` becomes ``/rooms/{room_id}``."""
    return endpoint.template.render(_param)


class EndpointApp:
    """The ASGI application of one endpoint's route.

    Starlette hands an object that is not a function the raw ASGI ``receive``
    and ``send`` (middleware included), so the session speaks ASGI through
    them, as a hand-written ASGI app does: no native ``WebSocket`` is made,
    and messages skip its per-message bookkeeping.
    """

    __slots__ = ("endpoint", "_serve")

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._serve = endpoint.serve

    def __repr__(self) -> str:
        return f"<pyfly_ws endpoint {self.endpoint.qualname}>"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._serve(StarletteConnection.from_asgi(scope, receive, send), scope.get("path_params") or {})


def endpoint_route(endpoint: Endpoint, prefix: str = "") -> WebSocketRoute:
    """A ``WebSocketRoute`` serving one endpoint at ``prefix`` + its path, named ``Controller.method``."""
    return WebSocketRoute(prefix + route_path(endpoint), EndpointApp(endpoint), name=endpoint.qualname)


def translate(endpoints: Iterable[Endpoint]) -> list[WebSocketRoute]:
    """Routes for already discovered endpoints, in the order given (discovery puts the most specific first)."""
    return [endpoint_route(endpoint) for endpoint in endpoints]


def page_routes(endpoints: Iterable[Endpoint], pages: Sequence[Page], prefix: str = "") -> list[Route]:
    """A ``Route`` per page (every method goes to the page, which answers 405 itself), checked against ``endpoints``."""
    return [
        Route(prefix + page.path, page, include_in_schema=False, name=f"pyfly_ws:page:{page.path}")
        for page in pages_beside(endpoints, pages).values()
    ]


def routes(source: object) -> list[WebSocketRoute]:
    """``WebSocketRoute``s for every endpoint in ``source`` (anything :func:`pyfly_ws.discover` accepts).

    They work in any Starlette router: ``Starlette(routes=[*routes(src), ...])``,
    ``FastAPI(routes=...)``, ``app.router.routes.extend(routes(src))``, or a
    ``Mount("/prefix", routes=routes(src))``.
    """
    return translate(discover(source))


def mount(
    app: Starlette | Router,
    source: object,
    *,
    registry: SessionRegistry | None = None,
    services: Iterable[Service] = (),
    pages: Sequence[Page] = (),
) -> SessionRegistry:
    """Serve every endpoint in ``source`` from an existing Starlette or FastAPI app (or router); returns the registry.

    The routes go in front of the app's own: a ``WebSocketRoute`` matches
    WebSocket requests only, so no HTTP route is hidden, while a catch-all
    ``Mount("/", ...)`` of the app cannot hide an endpoint. A FastAPI
    ``APIRouter(prefix="/v1")`` gets them under its prefix, as its own routes
    do (mount before ``app.include_router(router)``, as for those).

    The app's lifespan is wrapped so that ``services`` (a hub, say) start with
    it and the live sessions are drained (1001) on shutdown, inside the app's
    own lifespan: nothing else to call. The sessions are counted in
    ``registry`` (the one a previous ``mount`` on the same app made, else a new
    one), which is returned and also found by :func:`pyfly_ws.registry_of(app)
    <pyfly_ws.registry_of>`, so ``pyfly-ws run`` drains the app on a signal.
    ``pages`` (:class:`~pyfly_ws.adapter.Page`, the AsyncAPI ones of
    :func:`pyfly_ws.asyncapi.pages.asyncapi_pages` say) are routed in front too.
    """
    router = app if isinstance(app, Router) else app.router
    known = getattr(router, REGISTRY_ATTRIBUTE, None)
    chosen = registry if registry is not None else known if isinstance(known, SessionRegistry) else SessionRegistry()
    for service in services:
        chosen.add_service(service)
    endpoints = discover(source, registry=chosen)
    prefix = getattr(router, "prefix", "")  # FastAPI's APIRouter applies its prefix to each route added to it
    prefix = prefix if isinstance(prefix, str) else ""
    router.routes[0:0] = [
        *(endpoint_route(endpoint, prefix) for endpoint in endpoints),
        *page_routes(endpoints, pages, prefix),
    ]
    if chosen is not known:  # once per registry: its endpoints are read when the lifespan runs
        router.lifespan_context = draining_lifespan(chosen, router.lifespan_context)
    for target in (router, app):
        if getattr(target, REGISTRY_ATTRIBUTE, None) is None:
            with contextlib.suppress(AttributeError):
                setattr(target, REGISTRY_ATTRIBUTE, chosen)
    return chosen
