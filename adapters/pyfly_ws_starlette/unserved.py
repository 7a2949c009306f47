"""How an application built by :func:`pyfly_ws_starlette.create_app` answers requests no endpoint serves.

It answers the way every pyfly-ws adapter does (the core's rule, see the
README). A plain HTTP request to an endpoint's path gets the core's
:data:`~pyfly_ws.adapter.UPGRADE_REQUIRED` (426), where Starlette would
answer 404: each endpoint also has an HTTP route, listed after the
application's own routes, so a route of the user's at the same path wins.
A WebSocket handshake to an unknown path is refused with 403 and other HTTP
requests get Starlette's own 404. An application you mount endpoints into
keeps its own answers.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from pyfly_ws import Endpoint
from pyfly_ws.adapter import UPGRADE_REQUIRED

from .routes import route_path

__all__ = ["upgrade_required_routes"]


class _UpgradeRequired:
    """An ASGI app, so that Starlette routes every HTTP method to it."""

    __slots__ = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = UPGRADE_REQUIRED
        await send({"type": "http.response.start", "status": answer.status, "headers": answer.raw_headers()})
        await send({"type": "http.response.body", "body": answer.content})


def upgrade_required_routes(endpoints: Iterable[Endpoint]) -> list[Route]:
    """One HTTP route per endpoint path, answering every method with 426 Upgrade Required."""
    app = _UpgradeRequired()
    return [Route(route_path(endpoint), app, include_in_schema=False) for endpoint in endpoints]
