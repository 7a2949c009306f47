"""``pyfly-ws run`` drains the application on every adapter, on both servers, on SIGINT and SIGTERM."""

from __future__ import annotations

import signal
from contextlib import ExitStack
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from pyfly_ws import create_app, registry_of
from tests.support.run_command import free_port, pyfly_ws_run, until_up
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
    with pyfly_ws_run(args, record) as proc, ExitStack() as stack:
        url = f"ws://127.0.0.1:{port}/ws/held"

        def join() -> ClientConnection:
            return stack.enter_context(connect(url, open_timeout=5))

        clients = [until_up(join, proc), join()]
        for ws in clients:
            assert ws.recv(timeout=5) == "ready"
        proc.send_signal(sig)
        for ws in clients:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1001, "server shutting down")
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0, out
    assert record.read_text().splitlines() == ["started", *["disconnect 1001 server shutting down"] * 2]
