"""``create_app``: controllers in, a complete ASGI application out."""

from __future__ import annotations

from typing import Any

from .adapter import Adapter
from .config import choose_adapter, load_adapter
from .discovery import discover

__all__ = ["create_app"]


def create_app(source: object, adapter: str | Adapter | None = None, **options: Any) -> Any:
    """Build an ASGI application serving every WebSocket endpoint in ``source``.

    ``source`` is a :class:`Container`, an object with ``controllers()`` and
    ``resolve(cls)``, a controller class, a module or module name, or a list of
    these. ``adapter`` is an adapter name or object; without one, the
    ``PYFLY_WS_ADAPTER`` environment variable, then ``[tool.pyfly-ws] adapter``
    in ``pyproject.toml``, then the framework-free ``asgi`` adapter is used.
    ``options`` go to the adapter's application.
    """
    chosen = adapter if isinstance(adapter, Adapter) else load_adapter(choose_adapter(adapter)[0])
    return chosen.create_app(discover(source), **options)
