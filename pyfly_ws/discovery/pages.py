"""``Page``: a document the core serves over plain HTTP, such as the AsyncAPI description.

An adapter whose :class:`~pyfly_ws.Capabilities` sets ``pages`` accepts
``create_app(endpoints, pages=[...])`` and routes ``GET`` and ``HEAD`` at each
page's path to it, natively: through :meth:`Page.answer` in its framework's
terms, or by mounting the page itself, which is an ASGI application.

Every answer is decided here, so it is the same on every adapter: the page's
guards run first, on a :class:`~pyfly_ws.HandshakeView` of the request (a
guard's :class:`~pyfly_ws.Reject` gives its status and reason, a guard that
raises anything else gives 403), then ``GET`` and ``HEAD`` get the content (the
body left out for ``HEAD``), and any other method 405 with
``Allow: GET, HEAD``. A page's path must not be one an endpoint serves
(:func:`pages_beside` says so at build time).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import MappingProxyType

from ..asgi_types import Receive, Scope, Send
from ..datastructures import Headers, QueryParams
from ..exceptions import ConfigurationError
from ..lifecycle.apps import attach, attached
from ..lifecycle.registry import Endpoint
from ..lifecycle.run import logger
from ..mapping.guards import Guard, HandshakeView, Reject
from ..session.connection import Handshake
from .routing import HTTPAnswer, RouteTable

__all__ = ["PAGES_ATTRIBUTE", "Page", "attach_pages", "pages_at", "pages_beside", "pages_of"]

PAGES_ATTRIBUTE = "pyfly_ws_pages"
"""The attribute listing the paths of an application's pages (on it, or on its ``state``), for ``pyfly-ws run``."""

_METHODS = ("GET", "HEAD")
_NOT_ALLOWED = HTTPAnswer(405, "Method Not Allowed: GET or HEAD\n", (("allow", "GET, HEAD"),))
_FORBIDDEN = HTTPAnswer(403, "Forbidden\n")


@dataclass(frozen=True, slots=True)
class Page:
    """One HTTP document: what ``GET path`` answers, once the guards let the request through."""

    path: str
    """Where it is served: a literal path, ``/asyncapi.json`` say."""
    content: HTTPAnswer
    """The answer to ``GET`` (a 404 naming a missing extra is an answer too)."""
    guards: tuple[Guard, ...] = ()
    """Run on every request before the content is given, as an endpoint's guards run on a handshake."""
    render: Callable[[], HTTPAnswer] | None = None
    """For a page whose body is computed per request (the Prometheus page): called instead of giving ``content``,
    which then only stands for the page in listings."""

    def __post_init__(self) -> None:
        if not self.path.startswith("/") or "{" in self.path:
            raise ValueError(f"a page's path is a literal path starting with '/', got {self.path!r}")

    async def answer(self, method: str, request: Handshake) -> HTTPAnswer:
        """The answer to ``method`` at this page's path (``request.subprotocols`` is empty for HTTP)."""
        if method.upper() not in _METHODS:
            return _NOT_ALLOWED
        refusal = await self._refusal(request)
        if refusal is not None:
            return refusal
        return self.content if self.render is None else self.render()

    async def _refusal(self, request: Handshake) -> HTTPAnswer | None:
        if not self.guards:
            return None
        view = HandshakeView(
            request.path,
            MappingProxyType({}),
            QueryParams.from_query_string(request.query_string),
            Headers.from_raw(request.headers),
            request.client,
            (),
        )
        for guard in self.guards:
            try:
                result = guard(view)
                if inspect.isawaitable(result):
                    await result
            except Reject as refusal:
                logger.info("page %s: guard %s %s", self.path, _name(guard), refusal)
                return HTTPAnswer(refusal.status, f"{refusal.reason or 'Refused'}\n")
            except Exception:
                logger.warning("page %s: guard %s raised; refusing the request", self.path, _name(guard), exc_info=True)
                return _FORBIDDEN
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The page as an ASGI application, for an adapter that mounts one.

        A WebSocket handshake at a page's path is refused (HTTP 403), as at any
        path no endpoint serves; other scopes than ``http`` are not a page's.
        """
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            return
        method = str(scope.get("method", "GET"))
        answer = await self.answer(method, Handshake.from_scope(scope))
        await send({"type": "http.response.start", "status": answer.status, "headers": answer.raw_headers()})
        await send({"type": "http.response.body", "body": b"" if method.upper() == "HEAD" else answer.content})


def pages_at(pages: Iterable[Page]) -> dict[str, Page]:
    """``pages`` by path; two at one path raise :class:`~pyfly_ws.ConfigurationError` (a ``ValueError``)."""
    found: dict[str, Page] = {}
    for page in pages:
        if not isinstance(page, Page):
            raise ConfigurationError(f"pages= takes pyfly_ws.adapter.Page objects, got {page!r}")
        if page.path in found:
            raise ConfigurationError(f"two pages at {page.path!r}")
        found[page.path] = page
    return found


def pages_beside(endpoints: Iterable[Endpoint], pages: Iterable[Page] | None) -> dict[str, Page]:
    """:func:`pages_at`, checked against ``endpoints``: a page at a path an endpoint serves is a ``ConfigurationError``.

    Each adapter calls it on the ``pages`` it is given, so the rule is the same everywhere.
    """
    found = pages_at(pages or ())
    routes = RouteTable(endpoints)
    for path in found:
        served = routes.match(path)
        if served is not None:
            endpoint = served[0]
            raise ConfigurationError(
                f"the page at {path!r} clashes with the endpoint {endpoint.qualname} at {endpoint.path!r}: "
                "serve the page (or the endpoint) at another path"
            )
    return found


def attach_pages(app: object, paths: Iterable[str]) -> bool:
    """Add ``paths`` to the pages recorded for ``app`` (on it, else on its ``state``); whether they are found."""
    known = pages_of(app)
    return attach(app, PAGES_ATTRIBUTE, [*known, *(path for path in paths if path not in known)])


def pages_of(app: object) -> list[str]:
    """The paths of the pages ``app`` serves, as :func:`attach_pages` recorded them (or as the app lists them)."""
    found = attached(app, PAGES_ATTRIBUTE, list) or attached(app, PAGES_ATTRIBUTE, tuple) or ()
    return list(found) if all(isinstance(path, str) for path in found) else []


def _name(guard: object) -> str:
    return getattr(guard, "__qualname__", None) or repr(guard)
