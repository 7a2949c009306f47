"""The adapter contract: how a framework turns endpoints into an application.

Adapters are found by name in the entry-point group ``pyfly_ws.adapters``; an
entry point names an object with the members below (or a class that builds
one with no arguments). An adapter may also carry a ``capabilities``
attribute (:class:`~pyfly_ws.Capabilities`) for the conformance kit. The reference implementation is
:data:`pyfly_ws.asgi.adapter`, which needs no framework at all.

An adapter imports only from ``pyfly_ws`` and from this module: everything it
needs of the core beyond the public API is re-exported here, each name with the
reason an adapter needs it.

The socket seam: a :class:`Connection` (``handshake``, ``accept``, ``receive``,
``send``, ``close``) is all the core needs of a socket. Three optional contracts
add to it, each checked with ``isinstance``, never looked up by name:

- :class:`Denying` (``deny(status, reason)``): a refused handshake gets that
  HTTP status instead of 403;
- :class:`DirectEvents` (``direct_events``, ``peer_gone_errors``,
  ``asgi_receive``, ``asgi_send``, ``message_of``, ``gone_with``,
  ``gone_error``): the session reads and writes the connection's ASGI events
  itself. Subclass :class:`ASGIConnection` to get both;
- :class:`WritesNow` (``send_now(data) -> bool``): the session hands a message
  over without awaiting ``send`` when nothing is queued (not for ASGI, whose
  ``send`` is a coroutine; the native transport's connection is one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from .asgi.connection import ASGIConnection  # the reference connection, to subclass over a raw ASGI receive/send
from .asgi_types import ASGIApp, Message, Receive, Scope, Send  # the types an adapter's app is written in
from .capabilities import Capabilities  # what an adapter declares for the conformance kit
from .discovery.pages import (
    Page,  # a document to serve over HTTP GET, for an adapter whose capabilities set `pages`
    pages_beside,  # the pages given to create_app by path, checked against the endpoints' paths
)
from .discovery.routing import (
    UPGRADE_REQUIRED,  # the answer to plain HTTP at an endpoint's path, for a framework that decides that itself
    HTTPAnswer,  # a plain HTTP answer the core decided, to write in the framework's terms
    RouteTable,  # routing precedence: which endpoint serves a path, and what plain HTTP there gets
)
from .lifecycle.apps import (
    REGISTRY_ATTRIBUTE,  # where create_app's registry sits on an application, for registry_of()
    drain_endpoints,  # lifespan shutdown: drain every registry of the endpoints, then stop their services
    registries,  # the distinct registries of some endpoints, to drain or count them
    start_endpoints,  # lifespan startup: start the services (a hub) of every registry of the endpoints
)
from .lifecycle.registry import Endpoint  # what an adapter routes: endpoint.serve(connection, raw_params)
from .lifecycle.run import logger  # the core's logger, so an adapter's own lines go where the core's go
from .session.connection import (
    Connection,  # what an adapter wraps its framework's socket in
    Denying,  # optional: a connection that refuses a handshake with an HTTP status of its choice
    DirectEvents,  # optional: a connection whose ASGI events the session reads and writes itself
    Handshake,  # the handshake facts a connection presents
    RawHeaders,  # header pairs as ASGI carries them, for accept(headers=...)
    WritesNow,  # optional: a connection that writes a message without awaiting (the native transport's)
)
from .tasks import asyncio_task_getter  # the running task, cheaply: to tell the handler's own cancellation apart

__all__ = [
    "ASGIApp",
    "ASGIConnection",
    "Adapter",
    "Capabilities",
    "Connection",
    "Denying",
    "DirectEvents",
    "Endpoint",
    "HTTPAnswer",
    "Handshake",
    "Message",
    "Page",
    "REGISTRY_ATTRIBUTE",
    "RawHeaders",
    "Receive",
    "RouteTable",
    "Scope",
    "Send",
    "UPGRADE_REQUIRED",
    "WritesNow",
    "asyncio_task_getter",
    "drain_endpoints",
    "logger",
    "pages_beside",
    "registries",
    "start_endpoints",
]


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
        rejects one it does not know with a ``TypeError`` that names it. An
        adapter whose ``capabilities`` set ``pages`` also takes ``pages``, a
        sequence of :class:`Page` to serve at their paths.
        """
        ...
