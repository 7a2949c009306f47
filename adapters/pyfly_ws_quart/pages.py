"""Quart views for :class:`~pyfly_ws.adapter.Page`: one ``GET``/``HEAD`` rule per page, answered by the core.

The view writes :meth:`Page.answer` as a Quart ``Response``. Quart sends a
body even for ``HEAD`` (servers drop it; an in-process client would not), so
the view leaves it out itself, keeping the ``content-length`` of ``GET``. A
request with another method fails werkzeug's method check; the application's
``MethodNotAllowed`` handler (:mod:`pyfly_ws_quart.unserved`) then asks the
page, so its 405 is the core's too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence

from quart import Quart, Response, request

from pyfly_ws import Endpoint, Handshake
from pyfly_ws.adapter import HTTPAnswer, Page, pages_beside

__all__ = ["PAGES_EXTENSION", "add_pages", "page_response", "page_view"]

PAGES_EXTENSION = "pyfly_ws_pages"
"""The key of ``app.extensions`` holding the application's pages by path."""


def page_response(answer: HTTPAnswer, method: str) -> Response:
    """``answer`` as a Quart ``Response`` (without its body for ``HEAD``)."""
    content = answer.content
    response = Response(b"" if method == "HEAD" else content, status=answer.status, content_type=answer.media_type)
    for name, value in answer.headers:
        response.headers[name] = value
    response.headers["content-length"] = str(len(content))
    return response


async def answer_page(page: Page) -> Response:
    """The response to the request in context at ``page``'s path."""
    answer = await page.answer(request.method, Handshake.from_scope(request.scope))
    return page_response(answer, request.method.upper())


def page_view(page: Page, name: str) -> Callable[[], Awaitable[Response]]:
    """The view serving ``page``, named ``name``."""

    async def view() -> Response:
        return await answer_page(page)

    view.__name__ = view.__qualname__ = name
    return view


def add_pages(app: Quart, endpoints: Iterable[Endpoint], pages: Sequence[Page]) -> None:
    """Serve ``pages`` from ``app`` (checked against ``endpoints``: a page where an endpoint is, refused)."""
    found = pages_beside(endpoints, pages)
    known: dict[str, Page] = app.extensions.setdefault(PAGES_EXTENSION, {})
    for number, page in enumerate(found.values(), len(known)):
        name = f"pyfly_ws_page_{number}"
        app.add_url_rule(
            page.path, name, page_view(page, name), methods=["GET", "HEAD"], provide_automatic_options=False
        )
        known[page.path] = page
