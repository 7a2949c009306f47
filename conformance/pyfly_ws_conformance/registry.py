"""The case registry: each case is a small async check with a stable id, grouped by area."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from pyfly_ws import Capabilities

from .servers import ServerCapabilities

if TYPE_CHECKING:
    from .context import CaseContext

__all__ = ["CASES", "Case", "case"]

CaseFunc = Callable[["CaseContext"], Awaitable[None]] | Callable[["CaseContext"], None]


@dataclass(frozen=True)
class Case:
    """One conformance case: ``func(ctx)`` raises ``AssertionError`` when the adapter misbehaves."""

    id: str
    """Stable id, ``area.name``; ``known_failures`` and reports use it."""
    func: CaseFunc
    """The check: async, or sync for property cases that drive the loop through ``ctx.call``."""
    requires: tuple[str, ...] = ()
    """Adapter capabilities (:class:`~pyfly_ws.Capabilities` flags) the case needs."""
    server_requires: tuple[str, ...] = ()
    """Server capabilities (``ServerCapabilities`` flags) the case needs when run over a server."""
    doc: str = ""
    """What the case proves, from the function's docstring."""
    inprocess_only: str = ""
    """Why the case runs in-process only (it drives the app itself, e.g. its lifespan); empty: it runs everywhere."""
    libraries: tuple[str, ...] = ()
    """Optional libraries (importable module names, e.g. ``pydantic``) the case needs; skipped where one is absent."""

    @property
    def area(self) -> str:
        """The group the case belongs to: routing, handshake, messages, ..."""
        return self.id.partition(".")[0]

    @property
    def is_async(self) -> bool:
        """Whether ``func`` is a coroutine function (else it is run in a worker thread)."""
        return inspect.iscoroutinefunction(self.func)


CASES: dict[str, Case] = {}
"""Every registered case by id, in registration order."""


def case(
    case_id: str,
    *,
    requires: tuple[str, ...] = (),
    server_requires: tuple[str, ...] = (),
    inprocess_only: str = "",
    libraries: tuple[str, ...] = (),
) -> Callable[[Any], Any]:
    """Register the decorated function as the case ``case_id`` (``area.name``)."""
    area, dot, name = case_id.partition(".")
    if not (area and dot and name):
        raise ValueError(f"case id {case_id!r} must look like 'area.name'")
    Capabilities().lacking(*requires)  # unknown flags fail here, at import time
    known_server_flags = {f.name for f in fields(ServerCapabilities)}
    unknown = [flag for flag in server_requires if flag not in known_server_flags]
    if unknown:
        raise ValueError(f"case {case_id!r}: unknown server capability {unknown[0]!r}")

    def register(func: CaseFunc) -> CaseFunc:
        if case_id in CASES:
            raise ValueError(f"duplicate conformance case id {case_id!r}")
        doc = inspect.getdoc(func) or ""
        CASES[case_id] = Case(case_id, func, requires, server_requires, doc, inprocess_only, libraries)
        return func

    return register
