"""``pyfly-ws run --server picows``: drain on a signal, several workers on one port, a hub across them, refusals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidMessage
from websockets.sync.client import ClientConnection, connect

from tests.redis.redis_server import RedisServer, redis_server
from tests.support.run_command import ROOT, drain_held, free_port, pyfly_ws_run, until_up


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_drains_every_session_with_1001(sig: signal.Signals, workers: int, tmp_path: Path) -> None:
    record = tmp_path / "record"
    port = free_port()
    args = ["tests.support.run_target:app", "--server", "picows", "--port", str(port), "--workers", str(workers)]
    out = drain_held(args, record, sig, clients=3)
    lines = record.read_text().splitlines()
    assert lines.count("started") == workers  # each worker ran the lifespan startup
    assert sorted(line for line in lines if line != "started") == ["disconnect 1001 server shutting down"] * 3
    assert f"picows (native transport, {workers} worker" in out


def _pid_of(url: str, stack: ExitStack) -> tuple[ClientConnection, int]:
    ws = stack.enter_context(connect(url, open_timeout=5))
    return ws, int(ws.recv(timeout=5))


def test_workers_share_the_port_and_a_dead_worker_is_replaced() -> None:
    port = free_port()
    args = ["tests.native.apps:app", "--server", "picows", "--port", str(port), "--workers", "2"]
    with pyfly_ws_run(args) as proc, ExitStack() as stack:
        url = f"ws://127.0.0.1:{port}/ws/pid"
        first = until_up(lambda: _pid_of(url, stack), proc)[1]
        pids = {first}
        for _ in range(60):  # the kernel spreads new connections over the workers' sockets
            pids.add(_pid_of(url, stack)[1])
            if len(pids) == 2:
                break
        assert len(pids) == 2 and proc.pid not in pids, pids
        os.kill(first, signal.SIGKILL)
        seen: set[int] = set()
        deadline = time.monotonic() + 20
        while len(seen) < 2 and time.monotonic() < deadline:  # the new worker starts a second after the death
            try:
                with connect(url, open_timeout=5) as ws:
                    seen.add(int(ws.recv(timeout=5)))
            except (OSError, ConnectionClosed, InvalidMessage):  # one the dead worker's socket had queued: reset
                time.sleep(0.05)
        assert first not in seen and len(seen) == 2, (first, seen)  # the survivor and the one started again
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0, out
        assert f"worker {first} exited" in out


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


def test_a_hub_on_redis_reaches_across_the_workers(redis: RedisServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_REDIS_URL", redis.url)
    port = free_port()
    args = ["tests.native.rooms:app", "--server", "picows", "--port", str(port), "--workers", "2"]
    with pyfly_ws_run(args) as proc, ExitStack() as stack:
        url = f"ws://127.0.0.1:{port}/rooms/lobby"

        def join() -> tuple[ClientConnection, int]:
            ws = stack.enter_context(connect(url, open_timeout=5))
            return ws, int(ws.recv(timeout=5).split()[1])

        members = [until_up(join, proc)]
        while len({pid for _, pid in members}) < 2 and len(members) < 60:
            members.append(join())
        assert len({pid for _, pid in members}) == 2
        members[0][0].send("hello from one worker")
        for ws, _ in members:
            assert ws.recv(timeout=10) == "hello from one worker"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0, out


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYFLY_WS_ADAPTER", None)
    return subprocess.run(
        [sys.executable, "-m", "pyfly_ws", "run", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["tests.native.apps:fallback_app"],
            "the picows transport serves WebSocket endpoints and pages only: this application has a fallback",
        ),
        (
            ["tests.conformance.probe_app:app"],
            "the picows transport serves applications of the asgi adapter, not a function",
        ),
    ],
    ids=["fallback", "plain-asgi"],
)
def test_an_application_it_cannot_serve_whole_is_refused_in_one_line(args: list[str], message: str) -> None:
    done = _run(*args, "--server", "picows", "--port", str(free_port()))
    assert done.returncode == 2
    assert done.stderr.strip().startswith(f"pyfly-ws: {message}"), done.stderr
    assert "Traceback" not in done.stderr and "serving" not in done.stdout


def test_workers_are_for_the_native_transport_only() -> None:
    done = _run("tests.support.run_target:app", "--workers", "2", "--port", str(free_port()))
    assert done.returncode == 2
    assert "--workers is for --server picows" in done.stderr


def test_without_picows_the_transport_names_the_extra_to_install() -> None:
    code = "import sys; sys.modules['picows'] = None; import pyfly_ws.native"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert 'the native transport needs picows: pip install "pyfly-ws[picows]"' in done.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_failed_startup_exits_with_status_3_in_one_line(workers: str) -> None:
    done = _run("tests.native.apps:failing_app", "--server", "picows", "--port", str(free_port()), "--workers", workers)
    assert done.returncode == 3, done.stderr
    assert "lifespan.startup hook failed: the test service cannot start" in done.stderr
    assert "Traceback" not in done.stderr
