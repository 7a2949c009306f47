"""The adapter contract: how a framework turns endpoints into an application.

Adapters are found by name in the entry-point group ``pyfly_ws.adapters``; an
entry point names an object with the members below (or a class that builds
one with no arguments). An adapter may also carry a ``capabilities``
attribute (:class:`~pyfly_ws.Capabilities`) for the conformance kit. The reference implementation is
:data:`pyfly_ws.asgi.adapter`, which needs no framework at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from .asgi_types import ASGIApp, Message, Receive, Scope, Send
from .lifecycle.endpoint import Endpoint

__all__ = ["ASGIApp", "Adapter", "Message", "Receive", "Scope", "Send"]


@runtime_checkable
class Adapter(Protocol):
    """Translates :class:`~pyfly_ws.Endpoint` records into one framework's routes."""

    @property
    def name(self) -> str:
        """The adapter's name, as ``create_app(adapter=...)`` and ``PYFLY_WS_ADAPTER`` spell it."""
        ...

    def create_app(self, endpoints: Sequence[Endpoint], **options: Any) -> Any:
        """A complete ASGI application serving ``endpoints``.

        ``options`` are the framework's own application options; an adapter
        rejects one it does not know with a ``TypeError`` that names it.
        """
        ...
