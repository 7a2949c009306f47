"""Falcon resources for pyfly-ws pages (the AsyncAPI page and documents, say): one route per page.

A page's resource has a responder for every method Falcon routes, so each
request gets the core's answer (:meth:`pyfly_ws.adapter.Page.answer`), a 405
for a ``POST`` included, rather than Falcon's own. Falcon leaves the body out
for ``HEAD`` by itself, keeping the ``content-length``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from falcon.asgi import App, Request, Response
from falcon.constants import COMBINED_METHODS
from pyfly_ws import Endpoint, Handshake
from pyfly_ws.adapter import Page, pages_beside

__all__ = ["PageResource", "add_pages"]


class PageResource:
    """The Falcon resource serving one page."""

    __slots__ = ("page",)

    def __init__(self, page: Page) -> None:
        self.page = page

    def __repr__(self) -> str:
        return f"<PageResource at {self.page.path}>"

    async def respond(self, req: Request, resp: Response) -> None:
        """Any method: the page's answer, written in Falcon's terms."""
        answer = await self.page.answer(req.method, Handshake.from_scope(req.scope))
        resp.status = answer.status
        resp.content_type = answer.media_type
        for name, value in answer.headers:
            resp.set_header(name, value)
        resp.data = answer.content


for _method in COMBINED_METHODS:  # Falcon finds a resource's responders as on_<method> attributes
    setattr(PageResource, f"on_{_method.lower()}", PageResource.respond)


def add_pages(app: App[Any, Any], endpoints: Iterable[Endpoint], pages: Sequence[Page]) -> None:
    """Route ``pages`` in ``app`` (checked against ``endpoints``: a page where an endpoint is, refused)."""
    for page in pages_beside(endpoints, pages).values():
        app.add_route(page.path, PageResource(page))
