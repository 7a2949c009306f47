"""The framework-free ``asgi`` adapter: the default, and the reference for all others."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..capabilities import Capabilities
from ..lifecycle.registry import Endpoint
from .app import PyflyASGIApp
from .connection import ASGIConnection

__all__ = ["ASGIAdapter", "ASGIConnection", "PyflyASGIApp", "adapter"]


class ASGIAdapter:
    """Builds a :class:`PyflyASGIApp`; options: ``fallback``, ``on_startup``, ``on_shutdown``, ``pages``."""

    name = "asgi"
    capabilities = Capabilities(
        subprotocols=True,
        accept_headers=True,
        close_reasons=True,
        http_denial=True,
        peer_close_codes=True,
        pages=True,
        trio=True,
    )
    """What the conformance suite may expect of this adapter beyond the core contract."""

    def create_app(self, endpoints: Sequence[Endpoint], **options: Any) -> PyflyASGIApp:
        """A plain ASGI application serving ``endpoints``."""
        return PyflyASGIApp(endpoints, **options)


adapter = ASGIAdapter()
"""The instance the ``asgi`` entry point names."""
