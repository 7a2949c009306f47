"""The server launcher, and every flag of ``SERVERS`` re-measured against the real server.

Each capability has a probe: a few real WebSocket exchanges with ``probe_app`` served by
the server, returning the value the flag should hold. A server whose package is missing
fails (naming the pip extra) instead of skipping, so the table is always checked whole.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import anyio
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from pyfly_ws_conformance import servers
from pyfly_ws_conformance.servers import SERVERS, ServerCapabilities, available, get, install_hint, running
from pyfly_ws_conformance.stalled import not_reading
from tests.conformance import probe_app

TARGET = "tests.conformance.probe_app:app"
ROOT = str(Path(__file__).resolve().parents[2])
ENV = {"PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))}
TIMEOUT = 10.0

pytestmark = pytest.mark.anyio


def _open(url: str, **options: Any) -> Any:
    return connect(url, open_timeout=TIMEOUT, close_timeout=2, **options)


async def _recv(ws: ClientConnection) -> Any:
    with anyio.fail_after(TIMEOUT):
        return await ws.recv()


async def _report(base: str, key: str) -> dict[str, Any]:
    """What the app recorded under ``key`` (it waits a little for the record to appear)."""
    async with _open(f"{base}/report?key={key}") as ws:
        record = json.loads(await _recv(ws))
    assert record is not None, f"the probe app recorded nothing under {key!r}"
    return dict(record)


async def _closing(ws: ClientConnection) -> ConnectionClosed:
    """The ``ConnectionClosed`` the next ``recv`` raises."""
    with pytest.raises(ConnectionClosed) as closed:
        await _recv(ws)
    return closed.value


async def _peer_close(base: str) -> dict[str, Any]:
    key = uuid.uuid4().hex
    async with _open(f"{base}/peer-close?key={key}") as ws:
        await ws.close(4001, "bye")
    return await _report(base, key)


async def _drop(base: str) -> dict[str, Any]:
    """The client vanishes without a close frame; the app records its disconnect and a late send."""
    key = uuid.uuid4().hex
    ws = await _open(f"{base}/drop?key={key}")
    ws.transport.abort()
    return await _report(base, key)


async def _scope(base: str) -> dict[str, Any]:
    async with _open(f"{base}/scope") as ws:
        return dict(json.loads(await _recv(ws)))


async def close_reason(base: str, _: ServerCapabilities) -> bool:
    async with _open(f"{base}/close-reason") as ws:
        closed = await _closing(ws)
    assert closed.rcvd is not None and closed.rcvd.code == probe_app.CLOSE_CODE
    return closed.rcvd.reason == probe_app.CLOSE_REASON


async def peer_close_code(base: str, _: ServerCapabilities) -> bool:
    return bool((await _peer_close(base))["code"] == 4001)


async def peer_close_reason(base: str, _: ServerCapabilities) -> bool:
    return bool((await _peer_close(base))["reason"] == "bye")


async def http_denial(base: str, _: ServerCapabilities) -> bool:
    try:  # daphne ignores the denial and leaves the handshake hanging for ~5 s: 2 s tell enough
        async with connect(f"{base}/deny", open_timeout=2):
            pytest.fail("the handshake was accepted")
    except InvalidStatus as refused:
        status, body = refused.response.status_code, refused.response.body
        return status == probe_app.DENIAL_STATUS and body == probe_app.DENIAL_BODY
    except (InvalidMessage, OSError):  # no HTTP answer: the server dropped the connection, or kept it waiting
        return False


async def accept_headers(base: str, _: ServerCapabilities) -> bool:
    async with _open(f"{base}/accept-headers") as ws:
        assert ws.response is not None
        return bool(ws.response.headers.get(probe_app.HEADER[0]) == probe_app.HEADER[1])


async def subprotocols(base: str, _: ServerCapabilities) -> bool:
    async with _open(f"{base}/subprotocol", subprotocols=["probe.v1", probe_app.SUBPROTOCOL]) as ws:
        return bool(ws.subprotocol == probe_app.SUBPROTOCOL)


async def send_after_disconnect_raises(base: str, _: ServerCapabilities) -> bool:
    return (await _drop(base))["raised"] is not None


async def abrupt_drop_code(base: str, _: ServerCapabilities) -> int:
    return int((await _drop(base))["code"])


async def lifespan(base: str, _: ServerCapabilities) -> bool:
    return bool((await _scope(base))["lifespan"])


async def empty_messages(base: str, _: ServerCapabilities) -> bool:
    async with _open(f"{base}/send-empty") as ws:
        received = []
        while (message := await _recv(ws)) != "end":
            received.append(message)
    return received == ["", b""]


async def _echoes(base: str, size: int) -> ConnectionClosed | None:
    """``None`` if a ``size``-byte binary message comes back, else how the server closed the connection."""
    async with _open(f"{base}/echo", max_size=None) as ws:
        try:
            await ws.send(b"x" * size)
            assert len(await _recv(ws)) == size
        except ConnectionClosed as closed:
            return closed
    return None


async def max_message_size(base: str, _: ServerCapabilities) -> int | None:
    """The smallest of the usual limits (1 MiB, 16 MiB) the server enforces, checked on both sides of it."""
    for limit in (2**20, 2**24):
        if await _echoes(base, limit + 1) is not None:
            assert await _echoes(base, limit) is None, f"a {limit}-byte message was refused too"
            return limit
    return None


async def too_big_close_code(base: str, recorded: ServerCapabilities) -> int:
    closed = await _echoes(base, recorded.max_message_size + 1)
    assert closed is not None, "the server took a message over its recorded limit"
    return 1006 if closed.rcvd is None else int(closed.rcvd.code)


async def client_port_int(base: str, _: ServerCapabilities) -> bool:
    client = (await _scope(base))["client"]
    assert client is not None, "scope['client'] is not set"
    return isinstance(client[1], int)


async def protocol_close_codes(base: str, _: ServerCapabilities) -> bool:
    async with _open(f"{base}/close-1008") as ws:
        try:
            closed = await _closing(ws)
        except TimeoutError:  # the server sent no close frame at all
            return False
    # daphne fails to send 1008 and closes with 1011 for the app "crash" that failure causes
    return closed.rcvd is not None and closed.rcvd.code == 1008


async def repeated_headers(base: str, _: ServerCapabilities) -> bool:
    async with _open(f"{base}/scope", additional_headers=[("X-Twice", "a"), ("X-Twice", "b")]) as ws:
        seen = json.loads(await _recv(ws))["x-twice"]
    assert seen in (["a", "b"], ["a,b"]), seen
    return bool(seen == ["a", "b"])


async def send_backpressure(base: str, _: ServerCapabilities) -> bool:
    key = uuid.uuid4().hex
    async with not_reading(f"{base}/flood?key={key}"):
        return bool((await _report(base, key))["stalled"])


Probe = Callable[[str, ServerCapabilities], Awaitable[object]]
PROBES: dict[str, Probe] = {
    probe.__name__: probe
    for probe in (
        close_reason,
        peer_close_code,
        peer_close_reason,
        http_denial,
        accept_headers,
        subprotocols,
        send_after_disconnect_raises,
        abrupt_drop_code,
        lifespan,
        empty_messages,
        max_message_size,
        too_big_close_code,
        client_port_int,
        protocol_close_codes,
        repeated_headers,
        send_backpressure,
    )
}
FLAGS = [flag.name for flag in fields(ServerCapabilities)]
NATIVE = "picows"
ASGI_SERVERS = [name for name in SERVERS if name != NATIVE]
"""The servers that run any ASGI app, the probe app included (the native transport serves pyfly-ws apps only)."""


@pytest.fixture(scope="module", params=ASGI_SERVERS)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """``(server name, base URL)`` of the probe app, served once per server for the whole module."""
    name: str = request.param
    if not available(name):
        pytest.fail(install_hint(name), pytrace=False)
    with running(name, TARGET, env=ENV) as base:
        yield name, base


@pytest.mark.parametrize("flag", FLAGS)
async def test_recorded_capability_matches_the_server(served: tuple[str, str], flag: str) -> None:
    name, base = served
    recorded = SERVERS[name].capabilities
    measured = await PROBES[flag](base, recorded)
    expected = getattr(recorded, flag)
    assert measured == expected, f"{name}: SERVERS records {flag}={expected!r}, but the server gives {measured!r}"


def test_every_flag_has_a_probe() -> None:
    assert list(PROBES) == FLAGS


def test_the_seven_servers_in_order() -> None:
    assert " ".join(SERVERS) == "uvicorn-sansio uvicorn-websockets uvicorn-wsproto hypercorn granian daphne picows"
    assert {config.extra for config in SERVERS.values()} == {"uvicorn", "hypercorn", "granian", "daphne", "picows"}


def test_the_native_transport_records_every_flag_as_the_spec_has_it() -> None:
    """The probe app is raw ASGI, which the native transport does not serve; its flags are proven otherwise.

    Every flag is recorded as the spec has it, so no conformance case skips on
    ``picows`` for a server flag: each case that needs one runs there, and
    fails if the transport lacks it (the conformance session runs them all).
    """
    assert SERVERS[NATIVE].capabilities == SERVERS["uvicorn-websockets"].capabilities
    assert SERVERS["uvicorn-websockets"].capabilities.abrupt_drop_code == 1006


@pytest.mark.parametrize("name", list(SERVERS))
def test_command_runs_the_server_module_on_the_port(name: str) -> None:
    argv = get(name).command("pkg.mod:app", "127.0.0.1", 8123)
    assert argv[:3] == [sys.executable, "-m", get(name).module]
    assert "pkg.mod:app" in argv and any("8123" in arg for arg in argv)


def test_an_unknown_server_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"'nginx'.*uvicorn-sansio, .*daphne"):
        get("nginx")


def test_a_missing_server_names_the_pip_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wsproto" else real(name, *a))
    assert not available("uvicorn-wsproto")
    hint = """server 'uvicorn-wsproto' needs wsproto, which is not installed: pip install "pyfly-ws[uvicorn]" wsproto"""
    assert install_hint("uvicorn-wsproto") == hint
    with pytest.raises(RuntimeError, match="needs wsproto"), running("uvicorn-wsproto", TARGET):
        pytest.fail("the server started")


def test_a_server_that_exits_early_raises_with_its_log() -> None:
    with (
        pytest.raises(RuntimeError, match=r"exited with code .* before it was ready[\s\S]*no_such_module"),
        running("uvicorn-sansio", "tests.conformance.no_such_module:app", env=ENV),
    ):
        pytest.fail("the server started")


def test_a_server_that_is_not_ready_in_time_is_stopped() -> None:
    with (
        pytest.raises(RuntimeError, match="did not become ready on port"),
        running("uvicorn-sansio", TARGET, env=ENV, startup_timeout=0),
    ):
        pytest.fail("the server started")


def test_a_port_taken_in_the_meantime_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy: int = taken.getsockname()[1]
        ports = iter([busy])
        real = servers.free_port
        monkeypatch.setattr(servers, "free_port", lambda: next(ports, None) or real())
        with running("uvicorn-sansio", TARGET, env=ENV) as base:
            assert not base.endswith(f":{busy}")


def _group_of_listener(port: int) -> int:
    """The process group of the server process listening on ``port`` (Linux: from ``/proc``)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if str(port).encode() in argv or f"127.0.0.1:{port}".encode() in argv:
            return os.getpgid(int(cmdline.parent.name))
    raise AssertionError(f"no process serves port {port}")


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _serve_then_fail(name: str, interruption: type[BaseException], seen: dict[str, int]) -> None:
    with running(name, TARGET, env=ENV) as base:
        seen["port"] = int(base.rsplit(":", 1)[1])
        seen["group"] = _group_of_listener(seen["port"])
        raise interruption("the test failed")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the server's processes through /proc")
@pytest.mark.parametrize("interruption", [KeyboardInterrupt, AssertionError])
def test_nothing_is_left_behind_when_the_block_fails(interruption: type[BaseException]) -> None:
    name = "granian" if available("granian") else "uvicorn-sansio"  # granian runs a worker process of its own
    seen: dict[str, int] = {}
    with pytest.raises(interruption) as raised:
        _serve_then_fail(name, interruption, seen)
    assert not _group_alive(seen["group"])
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", seen["port"]), timeout=1):
        pass
    if issubclass(interruption, Exception):
        assert any(note.startswith(f"{name} log") for note in getattr(raised.value, "__notes__", []))
