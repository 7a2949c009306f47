"""``FalconAdapter``: builds a complete ``falcon.asgi.App`` from pyfly-ws endpoints."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from falcon import HTTPMethodNotAllowed, HTTPRouteNotFound
from falcon.asgi import App, Request, Response, WebSocket
from pyfly_ws import Capabilities, CloseCode, Endpoint, discover
from pyfly_ws.adapter import Page, RouteTable, drain_endpoints, start_endpoints

from .connection import PEER_CLOSE_KEY, PeerClose
from .pages import add_pages
from .routes import add_endpoints

__all__ = ["CAPABILITIES", "FalconAdapter", "FalconApp", "Lifespan", "adapter", "create_app", "upgrade_required"]

logger = logging.getLogger("pyfly_ws.falcon")

CAPABILITIES = {
    "subprotocols": True,
    "accept_headers": True,  # ASCII header values only (Falcon encodes them as ASCII); ASGI servers >= 2.1
    "close_reasons": True,  # ASGI servers implementing spec 2.3 or later (uvicorn, hypercorn)
    "peer_close_codes": True,  # the reason needs FalconApp (create_app); add_routes into a plain App gives ""
    "http_denial": False,  # Falcon has no WebSocket denial response: a refusal is always 403
    "pages": True,  # create_app(endpoints, pages=[...]): a route per page (pyfly_ws_falcon.pages)
    "trio": False,  # Falcon's WebSocket buffers incoming messages with asyncio
}
"""The optional behaviours verified for this adapter, as ``pyfly_ws.Capabilities`` flags."""


class FalconApp(App[Request, Response]):
    """A ``falcon.asgi.App`` that also keeps each WebSocket client's close event.

    Falcon tells a responder that the client left with the close code only;
    this app wraps the ASGI ``receive`` of every WebSocket connection in a
    :class:`~pyfly_ws_falcon.connection.PeerClose` (handed to
    :class:`~pyfly_ws_falcon.FalconConnection` in a copy of the scope) so that
    the handler's ``WebSocketDisconnect`` carries the client's reason too.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:  # type: ignore[override]
        if scope["type"] == "websocket":
            peer = PeerClose(receive)
            scope = {**scope, PEER_CLOSE_KEY: peer}
            receive = peer.receive
        await super().__call__(scope, receive, send)


async def refuse_unknown_path(
    req: Request, resp: Response | None, ex: HTTPRouteNotFound, params: dict[str, Any], ws: WebSocket | None = None
) -> None:
    """Refuse a handshake for a path no endpoint serves (HTTP 403), logging at DEBUG as pyfly-ws does.

    Falcon's default would refuse as well, but log an ERROR for every such
    handshake. Plain HTTP requests keep Falcon's 404.
    """
    if ws is None:
        raise ex
    logger.debug("refusing WebSocket handshake for %s: no endpoint at this path", req.path)
    await ws.close(CloseCode.POLICY_VIOLATION)


def upgrade_required(routes: RouteTable) -> Any:
    """An error handler for ``HTTPMethodNotAllowed``: 426 Upgrade Required for plain HTTP at an endpoint's path.

    Falcon would answer 405, since an endpoint's resource has no HTTP
    responder; the answer is the core's, as on every pyfly-ws application.
    Other 405s keep Falcon's answer.
    """

    async def handler(
        req: Request, resp: Response, ex: HTTPMethodNotAllowed, params: dict[str, Any], ws: WebSocket | None = None
    ) -> None:
        answer = routes.http_answer(req.path) if ws is None else None
        if answer is None:
            raise ex
        resp.status = answer.status
        resp.content_type = answer.media_type
        for name, value in answer.headers:
            resp.set_header(name, value)
        resp.data = answer.content

    return handler


class FalconAdapter:
    """The ``falcon`` adapter: each endpoint becomes a route (or sink) of a ``falcon.asgi.App``."""

    name = "falcon"
    """The name ``create_app(adapter="falcon")`` and ``PYFLY_WS_ADAPTER`` use."""
    capabilities = Capabilities(**CAPABILITIES)
    """What the pyfly-ws conformance suite may expect beyond the core contract."""

    def create_app(self, endpoints: Sequence[Endpoint], *, pages: Sequence[Page] = (), **options: Any) -> FalconApp:
        """A :class:`FalconApp` serving ``endpoints`` and ``pages``; ``options`` go to ``falcon.asgi.App(...)``.

        Beyond the routes, the app sends no close reason the handler did not
        give (Falcon would fill in e.g. "Normal Closure"), and refuses an
        unknown WebSocket path with a DEBUG log instead of Falcon's ERROR, and
        answers plain HTTP at an endpoint's path with 426 instead of Falcon's 405.
        An unknown option is a ``TypeError`` naming it.
        """
        app = FalconApp(**options)
        app.ws_options.default_close_reasons = {}
        app.add_error_handler(HTTPRouteNotFound, refuse_unknown_path)
        app.add_error_handler(HTTPMethodNotAllowed, upgrade_required(RouteTable(endpoints)))
        add_endpoints(app, endpoints)
        add_pages(app, endpoints, pages)
        app.add_middleware(Lifespan(endpoints))
        return app


class Lifespan:
    """Falcon middleware: start the endpoints' services on startup, drain their sessions on shutdown."""

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        self.endpoints = tuple(endpoints)

    async def process_startup(self, scope: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        await start_endpoints(self.endpoints)

    async def process_shutdown(self, scope: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        await drain_endpoints(self.endpoints)


adapter = FalconAdapter()
"""The instance the ``pyfly_ws_falcon:adapter`` entry point names."""


def create_app(source: object, **options: Any) -> FalconApp:
    """A Falcon app serving every endpoint in ``source``; ``options`` go to ``falcon.asgi.App(...)``."""
    return adapter.create_app(discover(source), **options)
