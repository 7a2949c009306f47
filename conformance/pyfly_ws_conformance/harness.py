"""The harness contract: what an adapter author hands the conformance kit.

The simplest harness is the adapter object itself: the kit reads its
``capabilities`` (:class:`~pyfly_ws.Capabilities`) and ``known_failures``
attributes if present. A :class:`Harness` says the same explicitly and can
pass options to the adapter's ``create_app``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyfly_ws import Adapter, Capabilities, Container
from pyfly_ws.config import import_object, load_adapter

from .recorder import ProbeController

__all__ = ["Harness", "case_source", "load_harness"]


@dataclass(frozen=True)
class Harness:
    """An adapter under test, with what it declares about itself."""

    adapter: Adapter
    """The adapter: ``name`` and ``create_app(endpoints, **options)``."""
    capabilities: Capabilities = field(default_factory=Capabilities)
    """The optional behaviours it supports; cases needing others are skipped."""
    known_failures: Mapping[str, str] = field(default_factory=dict)
    """``case id`` (or ``case id@transport``) to the reason it fails: run as strict xfails."""
    app_options: Mapping[str, Any] = field(default_factory=dict)
    """Keyword options for ``adapter.create_app``."""

    @property
    def name(self) -> str:
        """The adapter's name."""
        return self.adapter.name

    def build_app(self, source: object | None = None) -> Any:
        """A fresh application serving every case's controllers (or ``source``).

        An adapter declaring the ``pages`` capability also gets the pages the
        ``pages`` cases read (``pages=``), unless ``app_options`` give its own.
        """
        from pyfly_ws import discover

        from .cases.pages import kit_pages

        endpoints = discover(source if source is not None else case_source())
        options = dict(self.app_options)
        if self.capabilities.pages and "pages" not in options:
            options["pages"] = kit_pages(endpoints)
        return self.adapter.create_app(endpoints, **options)


def case_source() -> Container:
    """A new container holding every case controller and the probe."""
    container = Container()
    container.scan("pyfly_ws_conformance.cases")
    container.register(ProbeController)
    return container


def load_harness(spec: str) -> Harness:
    """The harness for ``spec``: an installed adapter name, or ``pkg.mod:attr`` naming an adapter or a Harness.

    A spec that cannot be loaded raises :class:`~pyfly_ws.ConfigurationError` (or ``TypeError`` for
    capabilities of the wrong type) with a one-line message.
    """
    if ":" in spec:
        target = import_object(spec)
        if isinstance(target, Harness):
            return target
    adapter = load_adapter(spec)
    capabilities = getattr(adapter, "capabilities", None)
    if capabilities is not None and not isinstance(capabilities, Capabilities):
        raise TypeError(f"{spec}: capabilities must be a pyfly_ws.Capabilities, got {type(capabilities).__name__}")
    known = getattr(adapter, "known_failures", None) or {}
    return Harness(adapter, capabilities or Capabilities(), dict(known))
