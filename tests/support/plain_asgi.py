"""``asgi-plain``: the ``asgi`` adapter with the session's direct ASGI-event path switched off.

Its connection says ``direct_events = False``, so the session speaks to it only through the
public :class:`~pyfly_ws.Connection` methods (``receive``, ``send``, ``accept``, ``close``,
``deny``), as it speaks to every other adapter's connection. Run the conformance suite on it
from the repository root::

    pyfly-ws conformance tests.support.plain_asgi:adapter --server inprocess
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pyfly_ws import Endpoint
from pyfly_ws.asgi import ASGIConnection, PyflyASGIApp
from pyfly_ws.asgi import adapter as asgi_adapter

__all__ = ["PlainASGIAdapter", "PlainASGIApp", "PlainConnection", "adapter"]


class PlainConnection(ASGIConnection):
    """An :class:`ASGIConnection` whose events the session does not read or write itself."""

    __slots__ = ()
    direct_events: ClassVar[bool] = False


class PlainASGIApp(PyflyASGIApp):
    """The asgi adapter's application, building a :class:`PlainConnection` for each WebSocket."""

    connection_class = PlainConnection


class PlainASGIAdapter:
    """Builds a :class:`PlainASGIApp`; the options and capabilities are the ``asgi`` adapter's."""

    name = "asgi-plain"
    capabilities = asgi_adapter.capabilities

    def create_app(self, endpoints: Sequence[Endpoint], **options: Any) -> PlainASGIApp:
        return PlainASGIApp(endpoints, **options)


adapter = PlainASGIAdapter()
