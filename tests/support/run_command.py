"""Starting ``pyfly-ws run`` in a subprocess, and waiting for it to serve."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

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
