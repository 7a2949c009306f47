"""The conformance suite as one parametrized test; the plugin generates a run per case and transport."""

from __future__ import annotations

from pyfly_ws_conformance.registry import Case
from pyfly_ws_conformance.runner import Runner


def test_conformance(conformance_case: Case, conformance_transport: str, pyfly_ws_runner: Runner) -> None:
    """Run one conformance case on one transport (see ``conformance_case.doc``)."""
    pyfly_ws_runner.run(conformance_case, conformance_transport)
