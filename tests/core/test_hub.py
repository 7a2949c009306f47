"""The in-memory ``Hub``: rooms, publishing, leaving by itself, and slow members, in one process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

import anyio
import pytest

from pyfly_ws import Limits, WebSocketSession, create_app, request_mapping, rest_controller, websocket_mapping
from pyfly_ws.hub import Hub, MemoryBackend
from pyfly_ws.hub.workers import worker_processes
from pyfly_ws.testing import ASGIClient

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


@rest_controller
@request_mapping("/hub")
class RoomController:
    """``/hub/{room}``: a message ``say:TEXT`` goes to the others, ``all:TEXT`` to everyone, ``leave`` leaves."""

    hub: ClassVar[Hub] = Hub()

    @websocket_mapping("/{room}", limits=Limits(send_queue=8, overflow="close"))
    async def room(self, session: WebSocketSession) -> None:
        hub, room = self.hub, session.path_params["room"]
        await session.accept()
        await hub.join(session, room)
        await session.send_json({"members": hub.members(room), "count": await hub.count(room)})
        async for text in session.iter_text():
            verb, _, rest = text.partition(":")
            if verb == "say":
                await hub.publish(room, rest, exclude=session)
            elif verb == "all":
                await hub.publish(room, rest)
            elif verb == "bytes":
                await hub.publish(room, rest.encode())
            elif verb == "json":
                await hub.publish_json(room, {"text": rest})
            elif verb == "burst":
                for i in range(int(rest)):
                    await hub.publish(room, f"b{i}", exclude=session)
                await session.send_text("burst done")
            elif verb == "leave":
                await hub.leave(session, room)
                await session.send_text(f"left; {hub.members(room)} here")


@pytest.fixture
async def client() -> Any:
    RoomController.hub = Hub()
    async with ASGIClient(create_app(RoomController)) as client:
        yield client


async def test_members_get_every_publication_in_order_and_other_rooms_nothing(client: ASGIClient) -> None:
    async with client.connect("/hub/a") as ann, client.connect("/hub/a") as bob, client.connect("/hub/b") as cid:
        for ws in (ann, bob, cid):
            await ws.receive_json()
        for i in range(20):
            await ann.send_text(f"all:{i}")
        assert [await bob.receive() for _ in range(20)] == [str(i) for i in range(20)]
        assert [await ann.receive() for _ in range(20)] == [str(i) for i in range(20)]
        await cid.receive_nothing(0.2)


async def test_exclude_skips_the_sender_and_kinds_are_kept(client: ASGIClient) -> None:
    async with client.connect("/hub/r") as ann, client.connect("/hub/r") as bob:
        await ann.receive_json()
        assert await bob.receive_json() == {"members": 2, "count": 2}
        await ann.send_text("say:hi")
        assert await bob.receive() == "hi"
        await ann.receive_nothing(0.1)
        await ann.send_text("bytes:raw")
        assert await bob.receive() == b"raw"
        await ann.send_text("json:x")
        assert await bob.receive_json() == {"text": "x"}


async def test_members_leave_by_themselves_and_on_request(client: ASGIClient) -> None:
    hub = RoomController.hub
    async with client.connect("/hub/z") as ann:
        await ann.receive_json()
        async with client.connect("/hub/z") as bob:
            await bob.receive_json()
            assert hub.members("z") == 2
        for _ in range(100):
            if hub.members("z") == 1:
                break
            await anyio.sleep(0.01)
        assert hub.members("z") == 1
        await ann.send_text("leave")
        assert await ann.receive() == "left; 0 here"
        assert hub.members("z") == 0 and await hub.count("z") == 0


async def test_a_member_that_stops_reading_is_closed_and_never_delays_the_others(client: ASGIClient) -> None:
    client.buffer = 4  # the in-process client holds 4 unread messages, like a full TCP window
    async with client.connect("/hub/s") as slow, client.connect("/hub/s") as fast, client.connect("/hub/s") as pub:
        for ws in (slow, fast, pub):
            await ws.receive_json()
        await pub.send_text("burst:50")
        got = [await fast.receive() for _ in range(50)]
        assert got == [f"b{i}" for i in range(50)]
        assert await pub.receive() == "burst done"
        assert (await slow.wait_closed())[0] == 1013
    assert RoomController.hub.members("s") == 0


async def test_a_started_memory_hub_counts_through_its_backend() -> None:
    hub = Hub(MemoryBackend())
    async with hub:
        assert hub.started
        assert await hub.count("x") == 0
    assert not hub.started


async def test_bad_input_is_refused(client: ASGIClient) -> None:
    hub = Hub()
    with pytest.raises(TypeError, match="publish_json"):
        await hub.publish("r", {"a": 1})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty string"):
        await hub.join(None, "")  # type: ignore[arg-type]


def test_a_redis_url_picks_the_redis_backend_and_a_bad_url_is_refused() -> None:
    from pyfly_ws.hub import RedisBackend

    assert isinstance(Hub("redis://127.0.0.1:6379/0").backend, RedisBackend)
    with pytest.raises(ValueError, match="redis://"):
        RedisBackend("http://127.0.0.1")


def test_a_redis_cluster_url_picks_the_redis_cluster_backend() -> None:
    from pyfly_ws.hub import RedisClusterBackend

    backend = Hub("redis+cluster://:secret@127.0.0.1:7000,127.0.0.1:7001/0").backend
    assert isinstance(backend, RedisClusterBackend)
    assert backend.urls == ["redis://:secret@127.0.0.1:7000/0", "redis://:secret@127.0.0.1:7001/0"]
    assert repr(backend) == "<RedisClusterBackend redis://:***@127.0.0.1:7000/0, redis://:***@127.0.0.1:7001/0>"


_WITHOUT_REDIS = """
import sys
sys.modules["redis"] = None  # redis-py cannot be imported in this interpreter
import pyfly_ws
from pyfly_ws.hub import Hub, RedisBackend, RedisClusterBackend  # the hub itself needs no redis-py
try:
    Hub(sys.argv[1])
except Exception as exc:
    print(type(exc).__name__, isinstance(exc, pyfly_ws.MissingDependencyError), isinstance(exc, ImportError))
    print(isinstance(exc, pyfly_ws.AdapterUnavailableError), exc.name, exc.__cause__, exc.__suppress_context__)
    print(exc)
"""


@pytest.mark.parametrize("url", ["redis://:secret@127.0.0.1:6379/0", "redis+cluster://:secret@127.0.0.1:7000/0"])
def test_a_redis_hub_without_redis_py_names_the_extra_in_one_line(url: str) -> None:
    command = [sys.executable, "-c", _WITHOUT_REDIS, url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "MissingDependencyError True True",
        "False redis None True",
        'the Redis hub needs redis-py, which is not installed: pip install "pyfly-ws[redis]"',
    ]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:secret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("rediss://ann:p%40ss@cache.example:6380", "rediss://ann:***@cache.example:6380"),
        ("unix:///run/redis.sock?db=1&password=secret", "unix:///run/redis.sock?db=1&password=***"),
    ],
)
def test_the_redis_url_is_shown_without_its_password(url: str, shown: str) -> None:
    from pyfly_ws.hub import RedisBackend

    backend = RedisBackend(url)
    assert backend.shown_url == shown
    assert repr(backend) == f"<RedisBackend {shown}>"


@pytest.mark.parametrize(
    ("argv", "environ", "workers"),
    [
        (["/venv/bin/uvicorn", "examples.chat:app", "--workers", "2"], {}, 2),
        (["/venv/lib/python3.11/site-packages/uvicorn/__main__.py", "app:app", "--workers=3"], {}, 3),
        (["/venv/bin/uvicorn", "app:app"], {"WEB_CONCURRENCY": "4"}, 4),
        (["/venv/bin/uvicorn", "app:app", "--workers", "1"], {"WEB_CONCURRENCY": "4"}, 1),
        (["/venv/bin/uvicorn", "app:app"], {}, 1),
        (["gunicorn", "-w", "4", "-k", "uvicorn.workers.UvicornWorker", "app:app"], {}, 4),
        (["gunicorn", "-w4", "app:app"], {}, 4),
        (["hypercorn", "app:app", "-w", "2"], {"WEB_CONCURRENCY": "8"}, 2),
        (["granian", "--interface", "asgi", "app:app"], {"GRANIAN_WORKERS": "2"}, 2),
        (["/venv/bin/pytest", "-w", "4"], {"WEB_CONCURRENCY": "4"}, 1),
        (["pyfly-ws", "run", "examples.chat"], {"WEB_CONCURRENCY": "4"}, 1),
        (["/venv/bin/uvicorn", "app:app", "--workers", "many"], {}, 1),
        ([], {}, 1),
    ],
)
def test_the_worker_count_is_read_from_the_servers_command_line(
    argv: list[str], environ: dict[str, str], workers: int
) -> None:
    assert worker_processes(argv, environ) == workers


def test_an_in_memory_hub_under_several_uvicorn_workers_warns_once_each(tmp_path: Path) -> None:
    """``uvicorn examples.chat:app --workers 2`` splits the rooms: each worker says so at start, once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {key: value for key, value in os.environ.items() if key not in ("PYFLY_WS_ADAPTER", "PYFLY_WS_CHAT_REDIS")}
    argv = [sys.executable, "-m", "uvicorn", "examples.chat:app", "--workers", "2", "--port", str(port)]
    log = tmp_path / "uvicorn.log"
    with log.open("w") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 25
        while log.read_text().count("Application startup complete") < 2:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its workers, all started here
        proc.wait(15)
    text = log.read_text()
    warnings = [line for line in text.splitlines() if line.startswith("the hub keeps its rooms in memory")]
    assert len(warnings) == 2, text
    assert "the server runs 2 worker processes" in warnings[0] and 'Hub("redis://' in warnings[0]
