"""A small bean container: classes, instances and factories, resolved lazily as singletons.

Constructor parameters are injected by type hint. ``scan("package")``
registers every class marked ``@controller`` or ``@rest_controller`` (or any
other PyFly stereotype) in a package and its submodules.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import threading
import typing
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, TypeVar

from ..exceptions import ConfigurationError
from ..mapping.decorators import CONTROLLER_STEREOTYPES

__all__ = ["Container", "ResolutionError"]

T = TypeVar("T")
_MISSING: Any = object()


class ResolutionError(ConfigurationError, LookupError):
    """A bean could not be built: not registered, ambiguous, cyclic, or its constructor failed."""


class _Registration:
    __slots__ = ("key", "factory", "instance")

    def __init__(self, key: type, factory: Callable[[], Any] | None, instance: Any) -> None:
        self.key = key
        self.factory = factory
        self.instance = instance


class Container:
    """Register beans, then resolve them: each is built once, on first use."""

    def __init__(self) -> None:
        self._registrations: dict[type, _Registration] = {}
        self._lock = threading.RLock()
        self._building: list[type] = []

    def register(self, cls: type[T], *, factory: Callable[[], T] | None = None) -> type[T]:
        """Register ``cls``, built by ``factory`` or by its constructor with injected parameters.

        Returns ``cls``, so it also works as a class decorator.
        """
        if not isinstance(cls, type):
            raise TypeError(f"register() takes a class, got {cls!r}")
        with self._lock:
            self._registrations[cls] = _Registration(cls, factory, _MISSING)
        return cls

    def register_instance(self, instance: object, as_type: type | None = None) -> None:
        """Register a ready-made object, found by its own class or by ``as_type``."""
        key = as_type or type(instance)
        with self._lock:
            self._registrations[key] = _Registration(key, None, instance)

    def scan(self, package: str | ModuleType) -> list[type]:
        """Import ``package`` and its submodules; register every stereotyped class defined there."""
        module = importlib.import_module(package) if isinstance(package, str) else package
        found = [cls for mod in _walk(module) for cls in _stereotyped(mod)]
        for cls in found:
            if cls not in self._registrations:
                self.register(cls)
        return found

    def __contains__(self, cls: object) -> bool:
        return cls in self._registrations

    def controllers(self) -> list[type]:
        """Every registered class marked as a controller, in registration order."""
        return [
            key
            for key in list(self._registrations)
            if getattr(key, "__pyfly_stereotype__", None) in CONTROLLER_STEREOTYPES
        ]

    def resolve(self, cls: type[T]) -> T:
        """The singleton for ``cls`` (or its one registered subclass), built on first use."""
        with self._lock:
            registration = self._find(cls)
            if registration.instance is _MISSING:
                registration.instance = self._build(registration)
            return typing.cast(T, registration.instance)

    def _find(self, cls: type) -> _Registration:
        registration = self._registrations.get(cls)
        if registration is not None:
            return registration
        candidates = [r for key, r in self._registrations.items() if _is_subclass(key, cls)]
        if len(candidates) == 1:
            return candidates[0]
        name = getattr(cls, "__qualname__", repr(cls))
        if candidates:
            names = ", ".join(sorted(c.key.__qualname__ for c in candidates))
            raise ResolutionError(f"{name} is ambiguous: registered subclasses are {names}")
        raise ResolutionError(f"{name} is not registered in the container")

    def _build(self, registration: _Registration) -> Any:
        cls = registration.key
        if cls in self._building:
            chain = " -> ".join(c.__qualname__ for c in [*self._building, cls])
            raise ResolutionError(f"dependency cycle: {chain}")
        self._building.append(cls)
        try:
            if registration.factory is not None:
                return registration.factory()
            return cls(**self._arguments(cls))
        except ResolutionError:
            raise
        except Exception as exc:
            raise ResolutionError(f"building {cls.__qualname__} failed: {exc!r}") from exc
        finally:
            self._building.pop()

    def check(self, cls: type) -> None:
        """Raise :class:`ResolutionError` if ``cls`` could not be built; nothing is built.

        Follows the constructor parameters (and theirs) the way :meth:`resolve`
        would: each needs a registered class, instance or factory. A factory or
        a constructor may still fail when it runs; only that is left for later.
        """
        with self._lock:
            self._check(self._find(cls), [])

    def _check(self, registration: _Registration, chain: list[type]) -> None:
        if registration.instance is not _MISSING or registration.factory is not None:
            return
        cls = registration.key
        if cls in chain:
            raise ResolutionError(f"dependency cycle: {' -> '.join(c.__qualname__ for c in [*chain, cls])}")
        for name, hint in self._parameters(cls):
            try:
                needed = self._find(hint)
            except ResolutionError as exc:
                raise ResolutionError(
                    f"cannot build {cls.__qualname__}: parameter {name!r} needs {hint.__qualname__}: {exc}"
                ) from None
            self._check(needed, [*chain, cls])

    def _arguments(self, cls: type) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        for name, hint in self._parameters(cls):
            try:
                arguments[name] = self.resolve(hint)
            except ResolutionError as exc:
                raise ResolutionError(
                    f"cannot build {cls.__qualname__}: parameter {name!r} needs {hint.__qualname__}: {exc}"
                ) from exc
        return arguments

    def _parameters(self, cls: type) -> list[tuple[str, type]]:
        """The constructor parameters the container provides: ``(name, class)`` each."""
        init = cls.__init__  # type: ignore[misc]
        if init is object.__init__:
            return []
        try:
            hints = typing.get_type_hints(init)
        except Exception as exc:
            raise ResolutionError(f"cannot build {cls.__qualname__}: its constructor's type hints: {exc!r}") from exc
        needed: list[tuple[str, type]] = []
        for name, param in inspect.signature(init).parameters.items():
            if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            hint = hints.get(name)
            if isinstance(hint, type) and (param.default is param.empty or self._knows(hint)):
                needed.append((name, hint))
            elif param.default is param.empty:
                raise ResolutionError(
                    f"cannot build {cls.__qualname__}: parameter {name!r} has no class type hint and no default"
                )
        return needed

    def _knows(self, cls: type) -> bool:
        return cls in self._registrations or any(_is_subclass(key, cls) for key in self._registrations)


def _is_subclass(key: type, cls: type) -> bool:
    try:
        return key is not cls and issubclass(key, cls)
    except TypeError:
        return False


def _walk(module: ModuleType) -> Iterator[ModuleType]:
    yield module
    for info in pkgutil.walk_packages(getattr(module, "__path__", ()), prefix=f"{module.__name__}."):
        yield importlib.import_module(info.name)


def _stereotyped(module: ModuleType) -> list[type]:
    return [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and obj.__module__ == module.__name__ and "__pyfly_stereotype__" in vars(obj)
    ]
