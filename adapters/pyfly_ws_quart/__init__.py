"""The Quart adapter of pyfly-ws: controller endpoints as Quart websocket routes.

Build a whole application with :func:`create_app` (or
``pyfly_ws.create_app(source, adapter="quart")``), or mount endpoints into an
application you already have with :func:`register` or :func:`blueprint`.
"""

from __future__ import annotations

try:
    import quart  # noqa: F401
except ModuleNotFoundError as exc:
    from pyfly_ws import AdapterUnavailableError

    raise AdapterUnavailableError(
        'the "quart" adapter needs Quart, which is not installed: pip install "pyfly-ws[quart]"'
    ) from exc

from .adapter import QuartAdapter, adapter, create_app
from .blueprint import blueprint, register
from .connection import QuartConnection

__all__ = ["QuartAdapter", "QuartConnection", "adapter", "blueprint", "create_app", "register"]
