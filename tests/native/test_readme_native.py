"""The README's native-transport snippet and command serve as written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from websockets.sync.client import connect

from tests.docs.readme import blocks
from tests.support.run_command import ROOT, free_port, pyfly_ws_run, until_up


def _echo_then_stop(proc: subprocess.Popen[str], url: str, sig: int) -> str:
    """One echo through ``url``, then ``sig``: the server must exit with status 0; returns its output."""
    with until_up(lambda: connect(url, open_timeout=5), proc) as ws:
        ws.send("hello")
        assert ws.recv(timeout=5) == "hello"
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
    return out


def test_the_snippet_serves_with_two_workers_and_stops_on_sigterm(tmp_path: Path) -> None:
    [block] = [block for block in blocks("python") if "from pyfly_ws.native import serve" in block.code]
    script = tmp_path / "native_snippet.py"
    script.write_text(block.code, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        try:
            _echo_then_stop(proc, f"ws://127.0.0.1:{port}/echo", signal.SIGTERM)
        finally:
            proc.kill()


def test_the_command_serves_the_echo_example() -> None:
    [block] = [block for block in blocks("bash") if "--server picows --workers 2" in block.code]
    argv = next(line for line in block.code.splitlines() if line.startswith("pyfly-ws run")).split()
    port = free_port()
    with pyfly_ws_run([*argv[2:], "--port", str(port)]) as proc:
        out = _echo_then_stop(proc, f"ws://127.0.0.1:{port}/ws/echo", signal.SIGINT)
        assert "picows (native transport, 2 workers)" in out
