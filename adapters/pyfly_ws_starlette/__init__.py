"""The Starlette (and FastAPI) adapter of pyfly-ws.

Build a whole app with :func:`create_app`, or add the endpoints to an app
you already have with :func:`mount` (or the lower-level :func:`routes`)::

    app = FastAPI()
    pyfly_ws_starlette.mount(app, [ChatController])  # drains with the app's lifespan
"""

from __future__ import annotations

from pyfly_ws import AdapterUnavailableError

try:
    import starlette  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in a subprocess
    if exc.name not in (None, "starlette"):
        raise
    raise AdapterUnavailableError(
        'the "starlette" adapter needs Starlette, which is not installed: pip install "pyfly-ws[starlette]"'
    ) from exc

from .adapter import StarletteAdapter, adapter, create_app
from .connection import StarletteConnection
from .lifespan import draining_lifespan
from .routes import endpoint_route, mount, routes, translate

__all__ = [
    "StarletteAdapter",
    "StarletteConnection",
    "adapter",
    "create_app",
    "draining_lifespan",
    "endpoint_route",
    "mount",
    "routes",
    "translate",
]
