"""An application's endpoints and the registry of their live sessions.

:class:`Endpoint` is one mapped method with its full path, ready for an
adapter to route. :class:`SessionRegistry` holds the sessions open right now,
per endpoint, and the drain that ends them. One registry serves the endpoints
of one application (``discover`` makes one, or pass your own to
:func:`~pyfly_ws.create_app`): the two name each other (``endpoint.registry``,
``registry.endpoints``), so they share this module. Every adapter's
application drains the registry on lifespan shutdown; call
:meth:`SessionRegistry.drain` yourself to drain at another moment (before a
deploy, on a signal of your own).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Coroutine, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import anyio

from ..clock import SYSTEM_CLOCK, Clock
from ..close_codes import check_reason
from ..mapping.paths import PathTemplate
from ..mapping.policy import Policy
from ..session.connection import Connection
from ..session.figures import Figures
from ..session.session import WebSocketSession
from ..session.tracing import Tracer
from .controller import LazyController
from .run import refuse, run_session
from .supervisor import Dispatching, Supervisor
from .timekeeper import Timekeeper

__all__ = ["DEFAULT_DRAIN_TIMEOUT", "Endpoint", "Service", "SessionRegistry"]

logger = logging.getLogger("pyfly_ws")

_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


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
        "figures",
        "tracer",
        "clock",
        "_live",
        "_identities",
        "_draining",
        "_closed_paths",
        "_refusing",
    )

    def __init__(
        self,
        *,
        drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
        drain_reason: str = "server shutting down",
        services: Iterable[Service] = (),
        clock: Clock = SYSTEM_CLOCK,
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
        self.figures: Figures | None = None
        """The figures the application keeps while its metrics are on (``create_app(..., telemetry=...)``)."""
        self.tracer: Tracer | None = None
        """Traces the handshakes and messages (``create_app(..., telemetry=...)`` sets it); ``None``: off."""
        if not isinstance(clock, Clock):
            raise TypeError(f"clock has time() and on_jump(), as pyfly_ws.testing.FakeClock has; got {clock!r}")
        self.clock = clock
        """The wall clock the sessions' credentials expire by (a test's ``FakeClock``, say)."""
        clock.on_jump(self.timekeeper.poke)
        self._identities: dict[str, set[Supervisor]] = {}
        for service in services:
            self.add_service(service)
        self._live: dict[str, set[Supervisor]] = {}
        self._draining = False
        self._closed_paths: set[str] = set()
        self._refusing = False  # draining, or some endpoint closed: run_session asks refuses() only then

    def __len__(self) -> int:
        return sum(len(group) for group in self._live.values())

    def __repr__(self) -> str:
        return f"<SessionRegistry {len(self)} open{' (draining)' if self._draining else ''}>"

    @property
    def draining(self) -> bool:
        """Whether the whole application drains: new handshakes are refused (HTTP 503 where possible, else 403)."""
        return self._draining

    @property
    def ready(self) -> bool:
        """Whether the application should get traffic: not draining, and every service that can tell (a
        ``ready`` attribute, as a :class:`~pyfly_ws.hub.Hub` has) is ready. For a readiness probe."""
        return not self.draining and all(getattr(service, "ready", True) for service in self.services)

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

    def sessions_of(self, identity: str) -> list[WebSocketSession]:
        """The open sessions that speak for ``identity`` (their principal's), in this process."""
        return [
            supervisor.session for supervisor in self._identities.get(identity, ()) if supervisor.session is not None
        ]

    def disconnect(self, identity: str, code: int, reason: str) -> int:
        """Close the open sessions that speak for ``identity`` with ``code`` and ``reason`` (from outside their
        handlers, as a limit does); how many there were. ``Hub.disconnect_user`` does this in every process."""
        found = [supervisor for supervisor in self._identities.get(identity, ()) if supervisor.session is not None]
        for supervisor in found:
            supervisor.end(code, reason, "revoked")
        return len(found)

    def add_service(self, service: Service) -> None:
        """Start ``service`` with the application and stop it after the drain (a service with a ``serve(registry)``
        method, such as a hub, is told of this registry)."""
        if not isinstance(service, Service):
            raise TypeError(f"a service has async start() and stop() methods, got {service!r}")
        self.services.append(service)
        serve = getattr(service, "serve", None)
        if callable(serve):
            serve(self)

    def reopen(self) -> None:
        """Accept handshakes again after a drain (of the application or of single endpoints)."""
        self._draining = False
        self._closed_paths.clear()
        self._refusing = False

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
        self._refusing = True
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

    def _enter(self, path: str, supervisor: Supervisor) -> None:
        group = self._live.get(path)
        if group is None:  # a group stays once made: one per endpoint at most
            group = self._live[path] = set()
        group.add(supervisor)

    def _leave(self, path: str, supervisor: Supervisor) -> None:
        self._live[path].discard(supervisor)
        identity = supervisor.identity
        if identity is not None:
            group = self._identities.get(identity)
            if group is not None:
                group.discard(supervisor)
                if not group:
                    del self._identities[identity]

    def _signed_in(self, supervisor: Supervisor, identity: str) -> None:
        group = self._identities.get(identity)
        if group is None:
            group = self._identities[identity] = set()
        group.add(supervisor)

    def _supervisors(self) -> Iterator[Supervisor]:
        for group in self._live.values():
            yield from group


@dataclass(frozen=True, eq=False, slots=True)
class Endpoint:
    """A WebSocket endpoint: full path, parsed template, and the method that serves it."""

    path: str
    """The normalised full path: base path + mapping path."""
    template: PathTemplate
    """The parsed path, which checks and converts parameters."""
    controller: type
    """The controller class."""
    method: str
    """The name of the mapped method on the controller."""
    resolver: LazyController = field(repr=False)
    """Builds the controller lazily, shared by every endpoint of the same controller."""
    policy: Policy = field(default=Policy(), repr=False)
    """Guards, allowed origins and limits, merged from the application, the controller and the mapping."""
    registry: SessionRegistry = field(default_factory=SessionRegistry, repr=False, compare=False)
    """The live sessions of the application this endpoint belongs to (shared by its endpoints)."""
    dispatcher: Dispatching | None = field(default=None, repr=False)
    """For a message-level endpoint (a ``@websocket_mapping`` class), what dispatches its messages by type."""

    def __copy__(self) -> Endpoint:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Endpoint:
        return self  # immutable, and shares its controller: copies would split it

    @property
    def qualname(self) -> str:
        """``Controller.method``, as logs and ``pyfly-ws routes`` name it (``Controller`` for a message-level one)."""
        if self.dispatcher is not None:
            return self.controller.__qualname__
        return f"{self.controller.__qualname__}.{self.method}"

    def serve(self, connection: Connection, raw_params: Mapping[str, str]) -> Coroutine[Any, Any, None]:
        """Run one connection whose path parameters a framework router captured as strings (await the result).

        A plain function returning the session's coroutine, so a connection
        holds one frame less for as long as it is open.
        """
        params = self.template.convert(raw_params) if self.template.params else _NO_PARAMS
        if params is None:
            return refuse(self, connection, "path parameters do not match their types")
        return run_session(self, connection, params)

    async def run(self, connection: Connection, path_params: Mapping[str, Any]) -> None:
        """Run one connection whose path parameters are already converted."""
        await run_session(self, connection, path_params)
