"""How an application built by :func:`pyfly_ws_litestar.create_app` answers requests no endpoint serves.

It answers the way every pyfly-ws adapter does (the core's rule, see the
README). A plain HTTP request to an endpoint's path gets the core's answer,
426 Upgrade Required, where Litestar would answer 405: Litestar's router
finds the path but no HTTP handler for the method, and the handler below
asks the core's :class:`~pyfly_ws.adapter.RouteTable` whether the path is an
endpoint's. A WebSocket handshake to an unknown path is refused with 403 and
other HTTP requests get Litestar's own 404 (or 405). An application you add
the handlers to keeps its own answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.exceptions import MethodNotAllowedException
from litestar.exceptions.responses import create_exception_response

from pyfly_ws.adapter import RouteTable

__all__ = ["upgrade_required_handler"]


def upgrade_required_handler(
    routes: RouteTable,
) -> Callable[[Request[Any, Any, Any], MethodNotAllowedException], Response[Any]]:
    """A Litestar exception handler for ``MethodNotAllowedException`` giving 426 at an endpoint's path."""

    def handler(request: Request[Any, Any, Any], exc: MethodNotAllowedException) -> Response[Any]:
        answer = routes.http_answer(request.scope["path"])
        if answer is None:
            return create_exception_response(request, exc)
        return Response(
            answer.content, status_code=answer.status, headers=dict(answer.headers), media_type=answer.media_type
        )

    return handler
