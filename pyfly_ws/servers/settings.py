"""``server_settings``: make the ASGI server refuse a message the application would refuse anyway.

An application's ``max_message_size`` is checked once the server has handed
it a whole message. The server buffers the message first, up to its own limit
(16 MiB for uvicorn and hypercorn), and inflates a compressed one
(per-message deflate) before counting it: 20 clients each sending 15 MiB
raise the server's memory by some 300 MB, even when the compressed messages
are only 15 KB each on the wire. Giving the server the application's own limit
makes it refuse such messages itself (close 1009) while reading them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from typing import Any

from ..lifecycle.apps import NO_LIMIT_BOUND, largest_message_size, registry_of
from ..lifecycle.registry import Endpoint, SessionRegistry

__all__ = ["NO_LIMIT_BOUND", "SETTINGS_SERVERS", "largest_message_size", "server_settings"]

SETTINGS_SERVERS = ("uvicorn", "hypercorn", "granian")
"""The servers :func:`server_settings` knows."""


def server_settings(app: object, server: str = "uvicorn") -> dict[str, Any]:
    """The settings that give ``server`` the largest ``max_message_size`` of ``app``'s endpoints.

    ``app`` is an application built by :func:`~pyfly_ws.create_app` (any
    adapter), its :class:`~pyfly_ws.SessionRegistry`, or the endpoints
    themselves (``pyfly_ws.discover(source)``). An endpoint without a limit
    (``max_message_size=None``) counts as :data:`NO_LIMIT_BOUND` (16 MiB), so
    the server never buffers without bound. The server then closes a larger
    message with 1009 while reading it, before the application sees it.

    - ``"uvicorn"``: ``{"ws_max_size": N}``, for ``uvicorn.run(app, **settings)``
      or ``uvicorn.Config``. With the websockets implementations (the default
      when ``websockets`` is installed) the limit also stops the inflation of
      compressed messages. wsproto inflates each read of the socket in full
      before uvicorn counts it, so where uvicorn would fall back to wsproto
      (``websockets`` not installed), the settings also switch per-message
      deflate off (``ws_per_message_deflate=False``); do the same if you
      choose ``ws="wsproto"`` yourself.
    - ``"hypercorn"``: ``{"websocket_max_message_size": N}``, for
      ``hypercorn.config.Config.from_mapping(settings)``. Hypercorn always
      offers per-message deflate and has no setting that bounds inflation: it
      inflates each read (up to 64 KiB, which can inflate a thousandfold)
      before counting. ``pyfly-ws run --server hypercorn`` replaces its
      deflate extension with one that stops at the limit.
    - ``"granian"``: ``{}``. Granian 2 has no WebSocket message-size setting
      (nor per-message deflate); it drops the connection on a frame over
      16 MiB, and the application checks its own limit below that.
    """
    if server not in SETTINGS_SERVERS:
        raise ValueError(f"unknown server {server!r}; choose one of {', '.join(SETTINGS_SERVERS)}")
    limit = largest_message_size(_endpoints(app))
    if server == "uvicorn":
        settings: dict[str, Any] = {"ws_max_size": limit}
        if importlib.util.find_spec("websockets") is None:
            settings["ws_per_message_deflate"] = False
        return settings
    if server == "hypercorn":
        return {"websocket_max_message_size": limit}
    return {}


def _endpoints(app: object) -> list[Endpoint]:
    if isinstance(app, SessionRegistry):
        return list(app.endpoints)
    registry = registry_of(app)
    if registry is not None:
        return list(registry.endpoints)
    if isinstance(app, Iterable) and not isinstance(app, str | bytes):
        found = list(app)
        if all(isinstance(endpoint, Endpoint) for endpoint in found):
            return found
    raise TypeError(
        f"{app!r} has no pyfly-ws endpoints: pass an application built by create_app(), its registry, "
        "or the endpoints from discover()"
    )
