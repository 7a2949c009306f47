"""How an application built by :func:`pyfly_ws_quart.create_app` answers requests no endpoint serves.

It answers the way every pyfly-ws adapter does (the core's rule, see the
README). A WebSocket handshake to an unknown path is refused with HTTP 403,
where Quart would answer 404. A plain HTTP request to an endpoint's path gets
the core's :data:`~pyfly_ws.adapter.UPGRADE_REQUIRED` (426), where Quart
would answer 400 (or 405 to a method other than GET); werkzeug's router
decides that the path is an endpoint's. At a page's path (see
:mod:`pyfly_ws_quart.pages`), another method than ``GET`` or ``HEAD`` gets the
page's own answer (405) and a WebSocket handshake 403, where Quart would
answer 405 and 400. An application you mount endpoints into keeps its own answers.
"""

from __future__ import annotations

from quart import Quart, Response, current_app, request, websocket
from quart.ctx import has_websocket_context
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import WebsocketMismatch

from pyfly_ws.adapter import UPGRADE_REQUIRED, Page

from .pages import PAGES_EXTENSION, answer_page

__all__ = ["install_unserved_answers"]


async def _unknown_path(error: NotFound) -> HTTPException | Response:
    if has_websocket_context():
        return Response("", status=403)
    return error


def _upgrade_required() -> Response:
    answer = UPGRADE_REQUIRED
    return Response(answer.content, status=answer.status, headers=dict(answer.headers), content_type=answer.media_type)


async def _not_upgraded(error: WebsocketMismatch) -> HTTPException | Response:
    if not has_websocket_context():
        return _upgrade_required()
    # A handshake at a page's path is refused as at any path no endpoint serves.
    return Response("", status=403) if websocket.path in current_app.extensions.get(PAGES_EXTENSION, {}) else error


async def _other_method(error: MethodNotAllowed) -> HTTPException | Response:
    page: Page | None = (
        None if has_websocket_context() else current_app.extensions.get(PAGES_EXTENSION, {}).get(request.path)
    )
    if page is not None:  # a POST (say) to a page: its 405 is the core's
        return await answer_page(page)
    # A POST (say) to an endpoint's path: werkzeug tells the method apart before the missing upgrade.
    url_adapter = None if has_websocket_context() else current_app.create_url_adapter(request)
    if url_adapter is None:
        return error
    try:
        url_adapter.match(method="GET", websocket=True)
    except HTTPException:
        return error
    return _upgrade_required()


def install_unserved_answers(app: Quart) -> None:
    """Register the error handlers that give ``app`` pyfly-ws's answers to unserved requests."""
    app.register_error_handler(NotFound, _unknown_path)
    app.register_error_handler(WebsocketMismatch, _not_upgraded)
    app.register_error_handler(MethodNotAllowed, _other_method)
