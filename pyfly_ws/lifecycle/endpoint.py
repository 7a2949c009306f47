"""``Endpoint``: one mapped method, with its full path, ready for an adapter to route."""

from __future__ import annotations

from collections.abc import Awaitable, Coroutine, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import anyio

from ..mapping.paths import PathTemplate
from ..mapping.policy import Policy
from ..session.connection import Connection
from .registry import SessionRegistry
from .run import refuse, run_session

__all__ = ["Endpoint", "LazyController"]

_UNSET: Any = object()
_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


class LazyController:
    """Resolves one controller through its source on first use, exactly once."""

    __slots__ = ("_resolve", "controller", "instance", "_instance", "_lock")

    def __init__(self, resolve: Any, controller: type) -> None:
        self._resolve = resolve
        self.controller = controller
        self.instance: Any = None
        """The controller instance once built, else ``None`` (then await :meth:`get`); read once per connection."""
        self._instance: Any = _UNSET
        self._lock: anyio.Lock | None = None

    def __copy__(self) -> LazyController:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> LazyController:
        return self  # frameworks deep-copy route options; the controller must stay one

    @property
    def resolved(self) -> bool:
        """Whether the controller was already built."""
        return self._instance is not _UNSET

    async def get(self) -> Any:
        """The controller instance; the first callers wait while one of them builds it."""
        if self._instance is not _UNSET:
            return self._instance
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if self._instance is _UNSET:
                instance = self._resolve(self.controller)
                if isinstance(instance, Awaitable):
                    instance = await instance
                self._instance = self.instance = instance
        return self._instance


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

    def __copy__(self) -> Endpoint:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Endpoint:
        return self  # immutable, and shares its controller: copies would split it

    @property
    def qualname(self) -> str:
        """``Controller.method``, as logs and ``pyfly-ws routes`` name it."""
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
