"""What an application does with its endpoints' registries: start and drain them, and find them again."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TypeVar

import anyio

from .registry import Endpoint, SessionRegistry

__all__ = [
    "NO_LIMIT_BOUND",
    "REGISTRY_ATTRIBUTE",
    "attach",
    "attach_registry",
    "attached",
    "drain_endpoints",
    "largest_message_size",
    "registries",
    "registry_of",
    "start_endpoints",
]

REGISTRY_ATTRIBUTE = "pyfly_ws_registry"
"""The attribute :func:`~pyfly_ws.create_app` sets on the application it builds (or on its ``state``)."""

logger = logging.getLogger("pyfly_ws")

T = TypeVar("T")

NO_LIMIT_BOUND = 16 * 1024 * 1024
"""The server's limit for an endpoint with ``max_message_size=None``: 16 MiB, uvicorn's and hypercorn's default."""


def largest_message_size(endpoints: Iterable[Endpoint]) -> int:
    """The largest ``max_message_size`` of ``endpoints`` (:data:`NO_LIMIT_BOUND` for one without a limit, or none)."""
    sizes = [endpoint.policy.limits.max_message_size for endpoint in endpoints]
    bounded = [size for size in sizes if size is not None]
    if not sizes or len(bounded) < len(sizes):
        bounded.append(NO_LIMIT_BOUND)
    return max(bounded)


def registries(endpoints: Iterable[Endpoint]) -> list[SessionRegistry]:
    """The distinct registries of ``endpoints``, in order of first appearance."""
    found: dict[int, SessionRegistry] = {}
    for endpoint in endpoints:
        found.setdefault(id(endpoint.registry), endpoint.registry)
    return list(found.values())


async def start_endpoints(endpoints: Iterable[Endpoint]) -> None:
    """Start the services of every registry of ``endpoints``: what each adapter does on lifespan startup."""
    for registry in registries(endpoints):
        for service in registry.services:
            await service.start()


async def drain_endpoints(endpoints: Iterable[Endpoint]) -> None:
    """Drain every registry of ``endpoints`` at once, then stop their services: lifespan shutdown."""
    found = registries(endpoints)
    async with anyio.create_task_group() as group:
        for registry in found:
            group.start_soon(registry.drain)
    for registry in found:
        for service in reversed(registry.services):
            try:
                await service.stop()
            except Exception:
                logger.warning("stopping %r failed", service, exc_info=True)


def attach(app: object, attribute: str, value: object) -> bool:
    """Record ``value`` as ``attribute`` of ``app``, else of its ``state``; whether :func:`attached` now finds it.

    Litestar's application takes no new attributes (it has ``__slots__``, and
    no weak references either), but its ``app.state`` does.
    """
    for holder in (app, getattr(app, "state", None)):
        if holder is None:
            continue
        try:
            setattr(holder, attribute, value)
        except (AttributeError, TypeError):
            continue
        if attached(app, attribute, type(value)) is value:
            return True
    return False


def attached(app: object, attribute: str, kind: type[T]) -> T | None:
    """The ``kind`` :func:`attach` recorded as ``attribute`` of ``app`` (or of its ``state``), or ``None``."""
    for holder in (app, getattr(app, "state", None)):
        found = getattr(holder, attribute, None)
        if isinstance(found, kind):
            return found
    return None


def attach_registry(app: object, registry: SessionRegistry) -> bool:
    """Record ``registry`` for :func:`registry_of` (see :func:`attach`); whether it is found."""
    return attach(app, REGISTRY_ATTRIBUTE, registry)


def registry_of(app: object) -> SessionRegistry | None:
    """The registry of an application built by :func:`~pyfly_ws.create_app` (any adapter), or ``None``."""
    return attached(app, REGISTRY_ATTRIBUTE, SessionRegistry)
