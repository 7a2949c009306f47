"""pyfly-ws conformance kit: one suite that proves an adapter behaves like every other.

Run it against any adapter::

    pytest --pyargs pyfly_ws_conformance --pyfly-ws-adapter=pkg.mod:adapter
    pyfly-ws conformance pkg.mod:adapter --server uvicorn-sansio --server hypercorn

Importing the package is cheap: pytest loads its plugin (``pyfly_ws_conformance.plugin``) in
every run of every project where pyfly-ws is installed, so the cases, and hypothesis with them,
are imported only when one of the names below is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyfly_ws import Capabilities

    from .context import CaseContext
    from .harness import Harness, case_source, load_harness
    from .registry import CASES, Case, case

__all__ = [
    "CASES",
    "SUITE_VERSION",
    "Capabilities",
    "Case",
    "CaseContext",
    "Harness",
    "case",
    "case_source",
    "load_harness",
]

SUITE_VERSION = "1.1"
"""Bumped when cases are added or changed, so a report says which suite it passed."""

_LAZY = {
    "CASES": ".registry",
    "Case": ".registry",
    "case": ".registry",
    "CaseContext": ".context",
    "Harness": ".harness",
    "case_source": ".harness",
    "load_harness": ".harness",
    "Capabilities": "pyfly_ws",
}
"""Each public name and the module it lives in, imported on first use."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    importlib.import_module(".cases", __name__)  # registers every case, so CASES is complete
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
