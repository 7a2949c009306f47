"""Litestar route handlers for :class:`~pyfly_ws.adapter.Page`: one ASGI route handler per page.

An ASGI route handler gets every method at its path, so the page answers
405 itself, as on every adapter; the answer is the core's (:meth:`Page.answer`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from litestar.handlers import ASGIRouteHandler, asgi
from litestar.types import Receive, Scope, Send

from pyfly_ws import Endpoint
from pyfly_ws.adapter import Page, pages_beside

__all__ = ["page_handler", "page_handlers"]


def page_handler(page: Page) -> ASGIRouteHandler:
    """A Litestar ASGI route handler serving ``page`` at its path."""

    async def serve_page(scope: Scope, receive: Receive, send: Send) -> None:
        await page(scope, receive, send)  # type: ignore[arg-type]  # Litestar's scope is a TypedDict

    return asgi(page.path, name=f"pyfly_ws:page:{page.path}", copy_scope=True)(serve_page)


def page_handlers(endpoints: Iterable[Endpoint], pages: Sequence[Page]) -> list[ASGIRouteHandler]:
    """One handler per page, the pages checked against ``endpoints`` (a page where an endpoint is: refused)."""
    return [page_handler(page) for page in pages_beside(endpoints, pages).values()]
