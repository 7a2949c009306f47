"""How an application built by :func:`pyfly_ws_quart.create_app` answers requests no endpoint serves.

It answers the way every pyfly-ws adapter does. A WebSocket handshake to an
unknown path is refused with HTTP 403, where Quart would answer 404. A plain
HTTP request to an endpoint's path gets 426 Upgrade Required, where Quart
would answer 400. An application you mount endpoints into keeps its own
answers.
"""

from __future__ import annotations

from quart import Quart, Response
from quart.ctx import has_websocket_context
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import WebsocketMismatch

__all__ = ["install_refusals"]


async def _unknown_path(error: NotFound) -> HTTPException | Response:
    if has_websocket_context():
        return Response("", status=403)
    return error


async def _not_upgraded(error: WebsocketMismatch) -> HTTPException | Response:
    if has_websocket_context():
        return error
    return Response(
        "Upgrade Required: this is a WebSocket endpoint\n",
        status=426,
        headers={"Upgrade": "websocket"},
        mimetype="text/plain",
    )


def install_refusals(app: Quart) -> None:
    """Register the error handlers that give ``app`` pyfly-ws's answers to unserved requests."""
    app.register_error_handler(NotFound, _unknown_path)
    app.register_error_handler(WebsocketMismatch, _not_upgraded)
