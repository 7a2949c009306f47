"""``create_app``: controllers in, a complete ASGI application out."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .adapter import Adapter
from .config import choose_adapter, load_adapter
from .discovery.discover import discover
from .lifecycle.apps import attach_registry
from .lifecycle.registry import Service, SessionRegistry
from .mapping.guards import Guard
from .mapping.limits import Limits

__all__ = ["create_app"]


def create_app(
    source: object,
    adapter: str | Adapter | None = None,
    *,
    guards: Iterable[Guard] | None = None,
    allowed_origins: Iterable[str] | None = None,
    limits: Limits | None = None,
    registry: SessionRegistry | None = None,
    services: Iterable[Service] = (),
    **options: Any,
) -> Any:
    """Build an ASGI application serving every WebSocket endpoint in ``source``.

    ``source`` is a :class:`Container`, an object with ``controllers()`` and
    ``resolve(cls)``, a controller class, a module or module name, or a list of
    these. ``adapter`` is an adapter name or object; without one, the
    ``PYFLY_WS_ADAPTER`` environment variable, then ``[tool.pyfly-ws] adapter``
    in ``pyproject.toml``, then the framework-free ``asgi`` adapter is used.
    ``guards``, ``allowed_origins`` and ``limits`` apply to every endpoint (see
    :mod:`pyfly_ws.mapping.guards` and :class:`~pyfly_ws.Limits`); ``registry`` is the
    :class:`~pyfly_ws.SessionRegistry` to count and drain sessions with (the
    application drains it on lifespan shutdown); ``services`` (a
    :class:`~pyfly_ws.hub.Hub`, say) start with the application and stop after
    the drain. Other ``options`` go to the adapter's application.
    """
    chosen = adapter if isinstance(adapter, Adapter) else load_adapter(choose_adapter(adapter)[0])
    registry = SessionRegistry() if registry is None else registry
    for service in services:
        registry.add_service(service)
    endpoints = discover(source, guards=guards, allowed_origins=allowed_origins, limits=limits, registry=registry)
    app = chosen.create_app(endpoints, **options)
    attach_registry(app, registry)  # for pyfly_ws.registry_of(app), and `pyfly-ws run`'s drain
    return app
