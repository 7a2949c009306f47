"""``LitestarAdapter``: the ``litestar`` entry of the ``pyfly_ws.adapters`` group."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Litestar
from litestar.exceptions import MethodNotAllowedException

from pyfly_ws import Capabilities, Endpoint, discover
from pyfly_ws.adapter import Page, RouteTable, drain_endpoints, start_endpoints

from .handlers import route_handlers
from .pages import page_handlers
from .unserved import upgrade_required_handler

__all__ = ["LitestarAdapter", "adapter", "create_app"]


class LitestarAdapter:
    """Builds a :class:`litestar.Litestar` application serving pyfly-ws endpoints."""

    name = "litestar"
    """The adapter's name, as ``create_app(adapter="litestar")`` and ``PYFLY_WS_ADAPTER`` spell it."""
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

    def create_app(self, endpoints: Sequence[Endpoint], *, pages: Sequence[Page] = (), **options: Any) -> Litestar:
        """A Litestar app serving ``endpoints``; ``options`` go to ``Litestar(...)``.

        ``route_handlers`` given in ``options`` are served too, listed before the
        endpoints; every other option (``debug``, ``plugins``, ``middleware``...)
        is Litestar's own, and Litestar rejects one it does not know with a ``TypeError``.
        Live sessions are drained first on shutdown, before the user's ``on_shutdown`` hooks.
        A plain HTTP request to an endpoint's path gets 426 Upgrade Required, as on every
        pyfly-ws application, unless ``exception_handlers`` handles ``MethodNotAllowedException`` (or 405).
        ``pages`` (:class:`~pyfly_ws.adapter.Page`) are served at their paths, by an ASGI route handler each.
        """
        extra = list(options.pop("route_handlers", None) or ())
        endpoints = tuple(endpoints)
        served = page_handlers(endpoints, pages)

        async def start_services() -> None:
            await start_endpoints(endpoints)

        async def drain_sessions() -> None:
            await drain_endpoints(endpoints)

        options["on_startup"] = [start_services, *(options.get("on_startup") or ())]
        options["on_shutdown"] = [drain_sessions, *(options.get("on_shutdown") or ())]
        handlers = dict(options.pop("exception_handlers", None) or {})
        handlers.setdefault(MethodNotAllowedException, upgrade_required_handler(RouteTable(endpoints)))
        every = [*extra, *route_handlers(endpoints), *served]
        return Litestar(route_handlers=every, exception_handlers=handlers, **options)


adapter = LitestarAdapter()
"""The instance the ``litestar`` entry point names."""


def create_app(source: object, **options: Any) -> Litestar:
    """A Litestar app serving every endpoint in ``source`` (anything :func:`pyfly_ws.discover` accepts)."""
    return adapter.create_app(discover(source), **options)
