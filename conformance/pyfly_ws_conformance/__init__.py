"""pyfly-ws conformance kit: one suite that proves an adapter behaves like every other.

Run it against any adapter::

    pytest --pyargs pyfly_ws_conformance --pyfly-ws-adapter=pkg.mod:adapter
    pyfly-ws conformance pkg.mod:adapter --server uvicorn-sansio --server hypercorn
"""

from __future__ import annotations

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

SUITE_VERSION = "1.0"
"""Bumped when cases are added or changed, so a report says which suite it passed."""

from . import cases as _cases  # noqa: E402,F401  (registers every case)
