"""Test clients for WebSocket endpoints: in-process (:class:`ASGIClient`) or over a real server (:class:`URLClient`).

Both open the same :class:`TestSession`::

    from pyfly_ws.testing import ASGIClient

    async with ASGIClient(app) as client, client.connect("/ws/echo") as ws:
        await ws.send_text("hi")
        assert await ws.receive_text() == "hi"

:class:`URLClient` needs the ``websockets`` package (``pip install "pyfly-ws[testing]"``).
"""

from __future__ import annotations

from .asgi_client import ASGIClient
from .clock import FakeClock
from .errors import HandshakeRefused
from .session import TestSession
from .url_client import URLClient

__all__ = ["ASGIClient", "FakeClock", "HandshakeRefused", "TestSession", "URLClient"]
