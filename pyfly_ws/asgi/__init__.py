"""The framework-free ``asgi`` adapter: the default, and the reference for all others."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..endpoint import Endpoint
from .app import PyflyASGIApp
from .connection import ASGIConnection

__all__ = ["ASGIAdapter", "ASGIConnection", "PyflyASGIApp", "adapter"]


class ASGIAdapter:
    """Builds a :class:`PyflyASGIApp`; options: ``fallback``, ``on_startup``, ``on_shutdown``."""

    name = "asgi"

    def create_app(self, endpoints: Sequence[Endpoint], **options: Any) -> PyflyASGIApp:
        """A plain ASGI application serving ``endpoints``."""
        return PyflyASGIApp(endpoints, **options)


adapter = ASGIAdapter()
"""The instance the ``asgi`` entry point names."""
