"""The Falcon adapter of pyfly-ws: controller-based WebSocket endpoints on ``falcon.asgi.App``.

Build a whole app with :func:`create_app` (or ``pyfly_ws.create_app(source,
adapter="falcon")``), or route the endpoints in an app you already have with
:func:`add_routes`::

    app = falcon.asgi.App()
    pyfly_ws_falcon.add_routes(app, [ChatController])
"""

from __future__ import annotations

from pyfly_ws import AdapterUnavailableError

try:
    import falcon
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
    if exc.name not in (None, "falcon"):
        raise
    raise AdapterUnavailableError(
        'the "falcon" adapter needs Falcon 4 or later, which is not installed: pip install "falcon>=4"'
    ) from exc
if int(falcon.__version__.split(".")[0]) < 4:  # pragma: no cover - depends on the environment
    raise AdapterUnavailableError(
        f'the "falcon" adapter needs Falcon 4 or later (found {falcon.__version__}): pip install "falcon>=4"'
    )

from .adapter import CAPABILITIES, FalconAdapter, FalconApp, adapter, create_app
from .connection import FalconConnection
from .routes import add_endpoints, add_routes

__all__ = [
    "CAPABILITIES",
    "FalconAdapter",
    "FalconApp",
    "FalconConnection",
    "adapter",
    "add_endpoints",
    "add_routes",
    "create_app",
]
