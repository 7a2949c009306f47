"""``pyfly-ws run`` drains the application on every adapter, on both servers, on SIGINT and SIGTERM."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from pyfly_ws import create_app, registry_of
from tests.support.run_command import drain_held, free_port
from tests.support.run_target import HeldController


def test_registry_of_finds_the_registry_of_every_adapters_app(adapter_name: str) -> None:
    """``create_app`` records its registry on every adapter's application (Litestar's takes no attributes)."""
    assert registry_of(create_app(HeldController, adapter=adapter_name)) is not None


@pytest.mark.parametrize("server", ["uvicorn", "hypercorn"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_run_drains_on_a_signal(adapter_name: str, server: str, sig: signal.Signals, tmp_path: Path) -> None:
    """Two live sessions; the signal closes both with 1001 and the reason, runs ``on_disconnect``, exits 0."""
    record = tmp_path / "record"
    port = free_port()
    args = ["tests.support.run_target:app", "--adapter", adapter_name, "--server", server, "--port", str(port)]
    drain_held(args, record, sig, clients=2)
    assert record.read_text().splitlines() == ["started", *["disconnect 1001 server shutting down"] * 2]
