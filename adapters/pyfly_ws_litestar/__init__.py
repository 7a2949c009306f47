"""pyfly-ws on Litestar: native websocket route handlers, an init plugin, or a whole app.

Mount into an app you already have with ``Litestar(route_handlers=[*handlers(source)])``
or ``Litestar(plugins=[PyflyWebSocketPlugin(source)])``; or build one with
``create_app(source)`` (also ``pyfly_ws.create_app(source, adapter="litestar")``).
"""

from __future__ import annotations

from pyfly_ws import AdapterUnavailableError

try:
    import litestar  # noqa: F401
except ModuleNotFoundError as exc:
    raise AdapterUnavailableError(
        'the "litestar" adapter needs Litestar, which is not installed: pip install "pyfly-ws[litestar]"'
    ) from exc

from .adapter import LitestarAdapter, adapter, create_app
from .connection import LitestarConnection
from .handlers import handlers
from .plugin import PyflyWebSocketPlugin

__all__ = [
    "LitestarAdapter",
    "LitestarConnection",
    "PyflyWebSocketPlugin",
    "adapter",
    "create_app",
    "handlers",
]
