"""The ``pyfly-ws`` command."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

from pyfly_ws.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_routes_lists_every_endpoint(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYFLY_WS_ADAPTER", raising=False)
    monkeypatch.chdir(ROOT)
    assert main(["routes", "examples", "--adapter", "asgi"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["PATH", "CONTROLLER.METHOD", "ADAPTER"]
    rows = {tuple(line.split()[:2]) for line in lines[1:]}
    assert ("/ws/echo", "EchoController.echo") in rows
    assert ("/ws/rooms/{room_id}/members/{member_id:int}", "RoomsController.join_as") in rows
    assert all(line.endswith("asgi (argument)") for line in lines[1:])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["routes", "no_such_module"], "pyfly-ws: no module named 'no_such_module'"),
        (["routes", "examples.echo:Nope"], "pyfly-ws: 'examples.echo' has no attribute 'Nope'"),
        (["routes", "broken_module"], "pyfly-ws: importing 'broken_module' failed: ZeroDivisionError"),
        (["routes", "examples", "--adapter", "nope"], "pyfly-ws: no pyfly-ws adapter is named 'nope'"),
        (["run", "tests.core.test_cli", "--port", "1"], "pyfly-ws: tests.core.test_cli has no WebSocket endpoints"),
    ],
)
def test_bad_targets_give_one_clear_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(ROOT)
    (tmp_path / "broken_module.py").write_text("x = 1 / 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("server", "target", "adapter_text"),
    [
        ("uvicorn", "examples.echo", "asgi adapter"),
        ("hypercorn", "examples.echo", "asgi adapter"),
        ("uvicorn", "tests.core.cli_app:app", "its own adapter"),
    ],
)
def test_run_serves_a_module_and_says_where(server: str, target: str, adapter_text: str) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyfly_ws", "run", target, "--port", str(port), "--server", server],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith(f"pyfly-ws: serving {target} ({adapter_text}) on {server} at http://127.0.0.1:{port}")
        assert proc.stdout.readline().split() == [f"ws://127.0.0.1:{port}/ws/echo", "EchoController.echo"]
        deadline = time.monotonic() + 15
        while True:
            try:
                with connect(f"ws://127.0.0.1:{port}/ws/echo", open_timeout=2) as ws:
                    ws.send("ping")
                    assert ws.recv(timeout=5) == "ping"
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)
    assert proc.returncode == 0
