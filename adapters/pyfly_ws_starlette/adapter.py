"""``StarletteAdapter``: builds a complete Starlette application from pyfly-ws endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette

from pyfly_ws import Capabilities, Endpoint, discover
from pyfly_ws.adapter import Page

from .lifespan import draining_lifespan
from .routes import page_routes, translate
from .unserved import upgrade_required_routes

__all__ = ["StarletteAdapter", "adapter", "create_app"]


class StarletteAdapter:
    """The ``starlette`` adapter: endpoints become ``WebSocketRoute``s of a ``Starlette`` app.

    Serves FastAPI users too: the routes mount into a ``FastAPI`` app unchanged
    (see :func:`pyfly_ws_starlette.mount`).
    """

    name = "starlette"
    """The name ``create_app(adapter="starlette")`` and ``PYFLY_WS_ADAPTER`` use."""
    capabilities = Capabilities(
        subprotocols=True,
        accept_headers=True,
        close_reasons=True,
        http_denial=True,
        peer_close_codes=True,
        pages=True,
        trio=True,
    )
    """What the conformance suite may expect of this adapter beyond the core contract."""

    def create_app(self, endpoints: Sequence[Endpoint], *, pages: Sequence[Page] = (), **options: Any) -> Starlette:
        """A ``Starlette`` app serving ``endpoints``; ``options`` go to ``Starlette(...)``.

        A ``routes=`` option adds the user's own routes after the endpoints'
        (which match WebSocket requests only, so no HTTP route is hidden); a
        plain HTTP request to an endpoint's path that none of them takes gets
        426 Upgrade Required, as on every pyfly-ws application. ``pages``
        (:class:`~pyfly_ws.adapter.Page`) are served ahead of the user's routes.
        ``debug``, ``middleware``, ``exception_handlers`` and ``lifespan`` pass
        through; an unknown option is a ``TypeError`` naming it. On lifespan
        shutdown the live sessions are drained before the user's lifespan exits.
        """
        user_routes = options.pop("routes", None) or ()
        options["lifespan"] = draining_lifespan(endpoints, options.pop("lifespan", None))
        served = page_routes(endpoints, pages)
        routes = [*translate(endpoints), *served, *user_routes, *upgrade_required_routes(endpoints)]
        return Starlette(routes=routes, **options)


adapter = StarletteAdapter()
"""The instance the ``pyfly_ws_starlette:adapter`` entry point names."""


def create_app(source: object, **options: Any) -> Starlette:
    """A ``Starlette`` app serving every endpoint in ``source``; ``options`` go to ``Starlette(...)``."""
    return adapter.create_app(discover(source), **options)
