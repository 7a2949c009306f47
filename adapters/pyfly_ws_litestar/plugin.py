"""``PyflyWebSocketPlugin``: a Litestar init plugin that adds pyfly-ws endpoints to an application."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyfly_ws import discover
from pyfly_ws.adapter import drain_endpoints, start_endpoints

from .handlers import route_handlers

if TYPE_CHECKING:
    from litestar.config.app import AppConfig
    from litestar.plugins import InitPlugin as _InitPlugin
else:
    try:
        from litestar.plugins import InitPlugin as _InitPlugin
    except ImportError:  # Litestar < 2.15
        from litestar.plugins import InitPluginProtocol as _InitPlugin

__all__ = ["PyflyWebSocketPlugin"]


class PyflyWebSocketPlugin(_InitPlugin):
    """Adds a route handler for every endpoint in ``source`` to the app: ``Litestar(plugins=[...])``.

    ``source`` is anything :func:`pyfly_ws.discover` accepts; it is discovered
    here, so a bad controller fails where the plugin is made. ``options``
    (``guards``, ``middleware``, ``opt``...) apply to every handler. Each app
    the plugin is given to gets handlers of its own, sharing the controllers.
    """

    __slots__ = ("endpoints", "_options")

    def __init__(self, source: object, **options: Any) -> None:
        self.endpoints = tuple(discover(source))
        """The discovered endpoints, most specific path first."""
        self._options = options

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Append the endpoints' route handlers, and drain their sessions first on shutdown."""
        app_config.route_handlers.extend(route_handlers(self.endpoints, **self._options))
        app_config.on_startup.insert(0, self.start)
        app_config.on_shutdown.insert(0, self.drain)
        return app_config

    async def start(self) -> None:
        """Start the services of the endpoints' registry (a hub, for instance)."""
        await start_endpoints(self.endpoints)

    async def drain(self) -> None:
        """Close the endpoints' live sessions with 1001 and wait for them (see :class:`pyfly_ws.SessionRegistry`)."""
        await drain_endpoints(self.endpoints)
