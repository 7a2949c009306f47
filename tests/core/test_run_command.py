"""``pyfly-ws run``: what it says when it cannot serve, and the log lines it shows while it does."""

from __future__ import annotations

import re
import signal
import socket
import sys
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from pyfly_ws.cli import main
from tests.support.run_command import ROOT, pyfly_ws_run, until_up


@pytest.mark.parametrize("server", ["uvicorn", "hypercorn"])
def test_a_taken_port_is_one_line_before_the_application_starts(server: str, tmp_path: Path) -> None:
    record = tmp_path / "record"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["tests.support.run_target:app", "--server", server, "--port", str(port)]
        with pyfly_ws_run(args, record) as proc:
            out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 2
    assert out.splitlines() == [
        f"pyfly-ws: 127.0.0.1:{port} is already in use (is another server running?); choose another port with --port"
    ]
    assert not record.exists(), "the application's startup ran"


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_a_port_out_of_range_is_refused_by_the_parser(port: str) -> None:
    with pyfly_ws_run(["examples.echo", f"--port={port}"]) as proc:
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 2
    assert out.splitlines() == [  # one line, no usage dump
        f"pyfly-ws run: argument --port: {port!r} is not a port: choose one from 0 to 65535 (0: any free port)"
        " (see pyfly-ws run --help)"
    ]


def test_a_missing_server_is_one_line_and_nothing_is_announced(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "hypercorn", None)  # importlib.util.find_spec("hypercorn") is None now
    monkeypatch.chdir(ROOT)
    assert main(["run", "examples.echo", "--server", "hypercorn", "--port", "0"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == 'pyfly-ws: the hypercorn server is not installed: pip install "pyfly-ws[hypercorn]"\n'


LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) +(?P<logger>[\w.]+): (?P<message>.*)$")
"""A log line of ``pyfly-ws run``: time, level, logger, message."""


@pytest.mark.parametrize("server", ["uvicorn", "hypercorn"])
@pytest.mark.parametrize("level", ["info", "warning"])
def test_log_lines_share_one_format_at_the_chosen_level(server: str, level: str) -> None:
    """A handshake refused by the origin check is logged at INFO by ``pyfly_ws``, with the time and the logger."""
    with pyfly_ws_run(["examples.echo", "--server", server, "--port", "0", "--log-level", level]) as proc:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().split("http://127.0.0.1:")[1].split()[0])  # --port 0: the port it got

        def refused() -> int:
            with connect(f"ws://127.0.0.1:{port}/ws/echo", origin=Origin("http://elsewhere.example")):
                return 101

        with pytest.raises(InvalidStatus) as denied:
            until_up(refused, proc)
        assert denied.value.response.status_code == 403
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
    logged = [found.groupdict() for found in map(LINE.match, out.splitlines()) if found]
    refusal = {
        "level": "INFO",
        "logger": "pyfly_ws",
        "message": "EchoController.echo: refused the handshake from origin 'http://elsewhere.example' (not allowed)",
    }
    if level == "info":
        assert refusal in logged, out
        assert any(line["logger"].startswith(f"{server}.") for line in logged), out  # the server's lines too
    else:
        assert refusal not in logged, out
        assert all(line["level"] != "INFO" for line in logged), out
    assert "Traceback" not in out
