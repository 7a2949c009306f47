"""``SessionRegistry``: the sessions open right now, per endpoint, and the drain that ends them.

One registry serves the endpoints of one application (``discover`` makes one,
or pass your own to :func:`~pyfly_ws.create_app`). Every adapter's application
drains it on lifespan shutdown; call :meth:`SessionRegistry.drain` yourself to
drain at another moment (before a deploy, on a signal of your own).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import anyio

from ..close_codes import check_reason
from .timekeeper import Timekeeper

if TYPE_CHECKING:
    from ..session.session import WebSocketSession
    from .endpoint import Endpoint
    from .supervisor import Supervisor

__all__ = [
    "DEFAULT_DRAIN_TIMEOUT",
    "REGISTRY_ATTRIBUTE",
    "SessionRegistry",
    "Service",
    "attach_registry",
    "drain_endpoints",
    "registries",
    "registry_of",
    "start_endpoints",
]

REGISTRY_ATTRIBUTE = "pyfly_ws_registry"
"""The attribute :func:`~pyfly_ws.create_app` sets on the application it builds (or on its ``state``)."""

logger = logging.getLogger("pyfly_ws")


@runtime_checkable
class Service(Protocol):
    """Something that lives as long as the application, such as a :class:`~pyfly_ws.hub.Hub`."""

    async def start(self) -> None:
        """Called on lifespan startup."""
        ...

    async def stop(self) -> None:
        """Called on lifespan shutdown, after the sessions were drained."""
        ...


DEFAULT_DRAIN_TIMEOUT = 10.0
"""Seconds a drain waits for handlers to finish before cancelling them."""


class SessionRegistry:
    """Live sessions by endpoint path; :meth:`drain` refuses new ones and closes the rest with 1001."""

    __slots__ = (
        "drain_timeout",
        "drain_reason",
        "services",
        "endpoints",
        "timekeeper",
        "_live",
        "_draining",
        "_closed_paths",
    )

    def __init__(
        self,
        *,
        drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
        drain_reason: str = "server shutting down",
        services: Iterable[Service] = (),
    ):
        if isinstance(drain_timeout, bool) or not isinstance(drain_timeout, int | float) or drain_timeout < 0:
            raise ValueError(f"drain_timeout must be a number of seconds >= 0, got {drain_timeout!r}")
        check_reason(drain_reason, "drain_reason, a close reason,")
        self.drain_timeout = float(drain_timeout)
        """How long :meth:`drain` waits by default."""
        self.drain_reason = drain_reason
        """The close reason clients get when the application drains."""
        self.endpoints: list[Endpoint] = []
        """The endpoints discovered into this registry's application."""
        self.services: list[Service] = []
        """Started on lifespan startup, stopped after the drain on shutdown (a hub, for instance)."""
        self.timekeeper = Timekeeper(self._supervisors)
        """Enforces the time limits of this registry's sessions."""
        for service in services:
            self.add_service(service)
        self._live: dict[str, set[Supervisor]] = {}
        self._draining = False
        self._closed_paths: set[str] = set()

    def __len__(self) -> int:
        return sum(len(group) for group in self._live.values())

    def __repr__(self) -> str:
        return f"<SessionRegistry {len(self)} open{' (draining)' if self._draining else ''}>"

    @property
    def draining(self) -> bool:
        """Whether the whole application drains: new handshakes are refused (HTTP 503 where possible, else 403)."""
        return self._draining

    def refuses(self, path: str) -> bool:
        """Whether a new handshake to the endpoint mapped at ``path`` is refused because of a drain."""
        return self._draining or path in self._closed_paths

    def count(self, path: str | None = None) -> int:
        """Open sessions of the endpoint mapped at ``path`` (its template, e.g. ``/ws/rooms/{id}``), or of all."""
        if path is None:
            return len(self)
        return len(self._live.get(path, ()))

    def counts(self) -> dict[str, int]:
        """Open sessions per endpoint path, for endpoints with at least one."""
        return {path: len(group) for path, group in self._live.items() if group}

    def sessions(self, path: str | None = None) -> Iterator[WebSocketSession]:
        """The open sessions (of one endpoint path, or of all)."""
        groups = [self._live.get(path, set())] if path is not None else list(self._live.values())
        for group in groups:
            for supervisor in list(group):
                if supervisor.session is not None:
                    yield supervisor.session

    def add_service(self, service: Service) -> None:
        """Start ``service`` with the application and stop it after the drain."""
        if not isinstance(service, Service):
            raise TypeError(f"a service has async start() and stop() methods, got {service!r}")
        self.services.append(service)

    def reopen(self) -> None:
        """Accept handshakes again after a drain (of the application or of single endpoints)."""
        self._draining = False
        self._closed_paths.clear()

    async def drain(
        self,
        timeout: float | None = None,  # noqa: ASYNC109
        *,
        reason: str | None = None,
        path: str | None = None,
    ) -> int:
        """Refuse new handshakes, close every session with 1001, wait for handlers and ``on_disconnect``.

        Handlers still running after ``timeout`` seconds (default
        :attr:`drain_timeout`) are cancelled; ``on_disconnect`` still runs for
        them. With ``path``, only that endpoint is drained (and refused until
        :meth:`reopen`). Returns how many sessions were open when the drain began.
        """
        if path is None:
            self._draining = True
        else:
            self._closed_paths.add(path)
        deadline = time.monotonic() + (self.drain_timeout if timeout is None else timeout)
        groups = self._live.values() if path is None else [self._live.get(path, set())]
        live = [supervisor for group in groups for supervisor in group]
        cut = 0

        async def end(supervisor: Supervisor) -> None:
            nonlocal cut
            if not await supervisor.drain(reason or self.drain_reason, deadline):
                cut += 1

        started = time.monotonic()
        async with anyio.create_task_group() as group:
            for supervisor in live:
                group.start_soon(end, supervisor)
        if live:
            logger.info(
                "drained %d WebSocket sessions in %.2f s (%d cancelled after the timeout)",
                len(live),
                time.monotonic() - started,
                cut,
            )
        return len(live)

    def _enter(self, supervisor: Supervisor) -> None:
        group = self._live.get(supervisor.endpoint.path)
        if group is None:  # a group stays once made: one per endpoint at most
            group = self._live[supervisor.endpoint.path] = set()
        group.add(supervisor)

    def _leave(self, supervisor: Supervisor) -> None:
        self._live[supervisor.endpoint.path].discard(supervisor)

    def _supervisors(self) -> Iterator[Supervisor]:
        for group in self._live.values():
            yield from group


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


def attach_registry(app: object, registry: SessionRegistry) -> bool:
    """Record ``registry`` for :func:`registry_of`: as an attribute of ``app``, else of its ``state``.

    Litestar's application takes no new attributes (it has ``__slots__``, and
    no weak references either), but its ``app.state`` does. Returns whether
    :func:`registry_of` now finds ``registry``.
    """
    for holder in (app, getattr(app, "state", None)):
        if holder is None:
            continue
        try:
            setattr(holder, REGISTRY_ATTRIBUTE, registry)
        except (AttributeError, TypeError):
            continue
        if registry_of(app) is registry:
            return True
    return False


def registry_of(app: object) -> SessionRegistry | None:
    """The registry of an application built by :func:`~pyfly_ws.create_app` (any adapter), or ``None``."""
    for holder in (app, getattr(app, "state", None)):
        found = getattr(holder, REGISTRY_ATTRIBUTE, None)
        if isinstance(found, SessionRegistry):
            return found
    return None
