"""Discovery: from a controller source to a sorted, checked list of :class:`Endpoint`.

A source is anything that yields controller classes and resolves them: the
built-in :class:`Container`, any object with ``controllers()`` and
``resolve(cls)`` (a PyFly application context fits), a class, a module, a
module name to scan, or a list mixing these.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

from ..auth.redaction import redact_secrets
from ..exceptions import ConfigurationError
from ..lifecycle.controller import LazyController
from ..lifecycle.registry import Endpoint, SessionRegistry
from ..mapping.auth import Authenticator
from ..mapping.decorators import marked_members
from ..mapping.guards import Guard
from ..mapping.limits import Limits
from ..mapping.paths import PathTemplate, join_paths
from ..mapping.policy import Policy, check_authenticator
from ..messages.dispatch import Dispatcher
from .container import Container, ResolutionError

__all__ = ["MESSAGES_METHOD", "ControllerSource", "as_source", "discover", "mapped_methods"]

MESSAGES_METHOD = "messages"
"""The ``Endpoint.method`` of a message-level endpoint: its messages are dispatched, not one method."""


@runtime_checkable
class ControllerSource(Protocol):
    """Where controllers come from, and how an instance of one is obtained."""

    def controllers(self) -> Iterable[type]:
        """The controller classes to search for mapped methods."""
        ...

    def resolve(self, cls: type) -> Any:
        """An instance of ``cls`` (or an awaitable of one); called once, on first connection."""
        ...


def as_source(source: object) -> ControllerSource:
    """Turn any accepted form of source into a :class:`ControllerSource`."""
    if isinstance(source, ControllerSource) and not isinstance(source, type):
        return source
    items: Iterable[object]
    if isinstance(source, str | type | ModuleType):
        items = [source]
    elif isinstance(source, Iterable):
        items = source
    else:
        raise TypeError(
            "a controller source is a Container, an object with controllers() and resolve(), "
            f"a class, a module, a module name, or a list of these; got {type(source).__name__}"
        )
    container = Container()
    for item in items:
        if isinstance(item, type):
            container.register(item)
        elif isinstance(item, str | ModuleType):
            container.scan(item)
        else:
            raise TypeError(f"cannot take controllers from {item!r}: expected a class, a module or a module name")
    return container


def mapped_methods(cls: type) -> list[tuple[str, str, Policy]]:
    """``(method name, mapping path, policy)`` for each WebSocket method of ``cls``, inherited ones included.

    A subclass that overrides a mapped method without the decorator unmaps it.
    """
    found: list[tuple[str, str, Policy]] = []
    for name, _, func, mapping in marked_members(cls, "__pyfly_ws_mapping__"):
        if not isinstance(mapping, dict):
            continue
        if not inspect.iscoroutinefunction(func):
            raise ConfigurationError(
                f"{cls.__qualname__}.{name} is mapped as a WebSocket endpoint; make it `async def`"
            )
        found.append((name, str(mapping.get("path", "")), mapping.get("policy") or Policy()))
    return found


def discover(
    source: object,
    *,
    guards: Iterable[Guard] | None = None,
    allowed_origins: Iterable[str] | None = None,
    limits: Limits | None = None,
    registry: SessionRegistry | None = None,
    check: bool = True,
    authenticator: Authenticator | None = None,
) -> list[Endpoint]:
    """Every endpoint of every controller in ``source``, most specific path first.

    ``guards``, ``allowed_origins``, ``limits`` and ``authenticator`` apply to
    the whole application; controllers (``@websocket_policy``) and mappings
    refine them.
    The endpoints share ``registry`` (a new :class:`SessionRegistry` if not given).

    Controllers are still built on the first connection, but with ``check``
    (the default) a :class:`Container` source (classes, modules and module
    names make one) must be able to build each controller with an endpoint:
    a constructor parameter nothing provides raises :class:`ResolutionError`
    here, naming the controller and the parameter, rather than refusing every
    handshake later.
    """
    app_policy = Policy.of(guards, allowed_origins, limits, authenticator)
    registry = SessionRegistry() if registry is None else registry
    resolved = as_source(source)
    endpoints: list[Endpoint] = []
    seen_controllers: set[type] = set()
    for cls in resolved.controllers():
        if cls in seen_controllers:
            continue
        seen_controllers.add(cls)
        base = getattr(cls, "__pyfly_request_mapping__", "") or ""
        lazy = LazyController(resolved.resolve, cls)
        controller_policy = app_policy.then(getattr(cls, "__pyfly_ws_policy__", None) or Policy())
        methods = mapped_methods(cls)
        gateway = _class_mapping(cls)
        if check and (methods or gateway) and isinstance(resolved, Container):
            _check_buildable(resolved, cls, made=resolved is not source)
        for method, sub_path, policy in methods:
            path = join_paths(str(base), sub_path)
            merged = controller_policy.then(policy)
            endpoints.append(Endpoint(path, PathTemplate(path), cls, method, lazy, merged, registry))
        if gateway is not None:
            path = join_paths(str(base), str(gateway.get("path", "")))
            merged = controller_policy.then(gateway.get("policy") or Policy())
            dispatcher = Dispatcher(cls, gateway["messages"])
            endpoints.append(
                Endpoint(path, PathTemplate(path), cls, MESSAGES_METHOD, lazy, merged, registry, dispatcher)
            )
    _check_overlaps(endpoints)
    for endpoint in endpoints:
        check_authenticator(endpoint.qualname, endpoint.policy)
    redact_secrets(endpoints)
    endpoints.sort(key=lambda e: e.template.specificity)
    registry.endpoints.extend(endpoints)
    return endpoints


def _class_mapping(cls: type) -> dict[str, Any] | None:
    """The ``@websocket_mapping`` of a message-level controller class, or ``None``."""
    mapping = getattr(cls, "__pyfly_ws_mapping__", None)
    if not isinstance(mapping, dict) or "messages" not in mapping:
        return None
    return mapping


def _check_buildable(container: Container, cls: type, *, made: bool) -> None:
    try:
        container.check(cls)
    except ResolutionError as exc:
        hint = " (classes and modules give only their controllers: use a Container that provides it)" if made else ""
        raise ResolutionError(f"controller {cls.__module__}.{cls.__qualname__}: {exc}{hint}") from None


def _check_overlaps(endpoints: list[Endpoint]) -> None:
    by_shape: dict[tuple[str, ...], Endpoint] = {}
    for endpoint in endpoints:
        other = by_shape.setdefault(endpoint.template.shape, endpoint)
        if other is endpoint:
            continue
        if other.path == endpoint.path:
            raise ConfigurationError(
                f"duplicate WebSocket path {endpoint.path!r}: mapped by {other.qualname} and {endpoint.qualname}"
            )
        raise ConfigurationError(
            f"WebSocket paths {other.path!r} ({other.qualname}) and {endpoint.path!r} ({endpoint.qualname}) "
            "differ only in parameter names or types, so one would hide the other"
        )
