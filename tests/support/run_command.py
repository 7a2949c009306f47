"""Starting ``pyfly-ws run`` in a subprocess, and waiting for it to serve."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from tests.support.run_target import RECORD_ENV

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def pyfly_ws_run(args: Sequence[str], record: Path | None = None) -> Iterator[subprocess.Popen[str]]:
    """``python -m pyfly_ws run ARGS`` from the repository root (output on ``stdout``); killed if still running."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("PYFLY_WS_ADAPTER", None)
    if record is not None:
        env[RECORD_ENV] = str(record)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyfly_ws", "run", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the workers it forks are killed with it
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()  # closes the pipe (a no-op once the test has read it all)


def until_up(attempt: Callable[[], T], proc: subprocess.Popen[str], within: float = 20.0) -> T:
    """``attempt()`` again and again while it cannot connect (the server is starting), at most ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        try:
            return attempt()
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def drain_held(args: Sequence[str], record: Path | None, sig: int, clients: int, path: str = "/ws/held") -> str:
    """``pyfly-ws run ARGS`` serving ``path`` (``/ws/held`` of ``tests.support.run_target``, or an endpoint that
    also says ``ready`` and waits): ``clients`` sessions, then ``sig``.

    Every session must end with 1001 ``server shutting down`` and the command with status 0;
    returns what it printed.
    """
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import ClientConnection, connect

    port = next(arg for flag, arg in itertools.pairwise(args) if flag == "--port")
    with pyfly_ws_run(args, record) as proc, ExitStack() as stack:
        url = f"ws://127.0.0.1:{port}{path}"

        def join() -> ClientConnection:
            return stack.enter_context(connect(url, open_timeout=5))

        opened = [until_up(join, proc)] + [join() for _ in range(clients - 1)]
        for ws in opened:
            assert ws.recv(timeout=5) == "ready"
        proc.send_signal(sig)
        for ws in opened:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1001, "server shutting down")
        out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0, out
    return out
