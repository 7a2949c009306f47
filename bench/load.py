"""The load generator: a client process, separate from the servers, that prints its figures as JSON.

    python -m bench.load echo NAME=URL@PID ... --clients 10 --size 32 --rounds 12 --window 0.25
    python -m bench.load typed NAME=URL@PID ... --kinds dataclass pydantic msgspec --clients 10 --size 32
    python -m bench.load connect NAME=URL@PID ... --concurrency 10 --rounds 12 --window 0.25
    python -m bench.load idle URL --count 2000        (holds them until stdin closes)
    python -m bench.load broadcast URL [URL...] --sessions 1000 --rounds 5

``echo`` and ``connect`` take several targets and interleave them: each round
measures every target for one short window, the order turning each round (see
``_turns``), so drift on the machine falls on all alike, and a pyfly-ws target is
always measured right next to its counterpart. Each window also records
the share of one CPU the target's server process group used (from ``/proc``, by PID).

It uses picows (a WebSocket client written in Cython) on uvloop when installed, so one
client core outruns one server core; the ``websockets`` client tops out near 11,000
round trips per second here, below what the servers reach. Each echo client is
closed-loop: it sends its next message when the echo of the last one arrived.

``typed`` is the same closed loop over ``/typed/KIND`` with the message
``{"type": "echo", "id": 1, "data": {"text": SIZE characters}}``, one kind after
the other; before each kind is measured, each target's reply is checked (a target
answering with an error frame would otherwise look fast) and every target runs
one unrecorded window, so all are warmed alike.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, NamedTuple

from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from . import procs
from .targets import TYPED_KINDS

NS = 1_000_000_000


class _Echo(WSListener):
    """One closed-loop echo client: records each round trip's latency while the window is open."""

    def __init__(self, run: _EchoRun) -> None:
        self.run = run
        self.sent = 0
        self.transport: WSTransport | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def fire(self) -> None:
        assert self.transport is not None
        self.sent = time.perf_counter_ns()
        self.transport.send(WSMsgType.TEXT, self.run.payload)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type is WSMsgType.CLOSE:
            self.run.failed(f"server closed: {frame.get_close_code()}")
            return
        if not frame.fin:
            return  # a fragmented echo completes with its last frame
        now = time.perf_counter_ns()
        run = self.run
        if run.recording:
            run.latencies.append(now - self.sent)
        if run.running:
            self.sent = now
            transport.send(WSMsgType.TEXT, run.payload)
        else:
            run.finished()


class _EchoRun:
    """The echo clients of one target, fired together for one window at a time."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.latencies: list[int] = []
        self.recording = False
        self.running = False
        self.outstanding = 0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def start(self, clients: list[_Echo]) -> None:
        self.latencies = []
        self.running = True
        self.outstanding = len(clients)
        self.done = asyncio.get_running_loop().create_future()
        for client in clients:
            client.fire()

    def finished(self) -> None:
        self.outstanding -= 1
        if self.outstanding == 0 and not self.done.done():
            self.done.set_result(None)

    def failed(self, why: str) -> None:
        if not self.done.done():
            self.done.set_exception(RuntimeError(why))


async def _open_all(url: str, factory: Callable[[], WSListener], count: int) -> list[WSTransport]:
    """Open ``count`` connections, at most 100 handshakes at a time."""
    gate = asyncio.Semaphore(100)

    async def one() -> WSTransport:
        async with gate:
            transport, _ = await ws_connect(factory, url, websocket_handshake_timeout=30)
            return transport

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def _close_all(transports: list[WSTransport]) -> None:
    for transport in transports:
        transport.send_close(WSCloseCode.OK)
    await asyncio.wait_for(asyncio.gather(*(t.wait_disconnected() for t in transports)), 30)


class Target(NamedTuple):
    """One server under load: its name in the results, its base URL and its process group."""

    name: str
    url: str
    pid: int

    @classmethod
    def parse(cls, text: str) -> Target:
        """``NAME=ws://127.0.0.1:PORT@PID``."""
        name, _, rest = text.partition("=")
        url, _, pid = rest.rpartition("@")
        if not name or not url or not pid.isdigit():
            raise argparse.ArgumentTypeError(f"expected NAME=URL@PID, got {text!r}")
        return cls(name, url, int(pid))


def _turns(targets: list[Target], rounds: int) -> list[list[Target]]:
    """``rounds`` passes over ``targets``: each starts two further along, and every other one runs backwards.

    Targets come in pairs (a counterpart, then its pyfly-ws target), and the
    two of a pair stay next to each other in every pass, in either order:
    A B C D, D C B A (from C D A B)...
    """
    passes = []
    for r in range(rounds):
        shift = (2 * r) % len(targets) if len(targets) > 1 else 0
        turn = targets[shift:] + targets[:shift]
        passes.append(turn[::-1] if r % 2 else turn)
    return passes


async def _window(target: Target, measure: Callable[[Target], Awaitable[dict[str, float]]]) -> dict[str, float]:
    """``measure(target)``'s figures, plus the shares of one CPU the target's server and this client used meanwhile."""
    cpu, own, wall = procs.cpu_seconds(target.pid), time.process_time(), time.perf_counter()
    figures = await measure(target)
    elapsed = time.perf_counter() - wall
    return {
        **figures,
        "server_cpu": (procs.cpu_seconds(target.pid) - cpu) / elapsed,
        "client_cpu": (time.process_time() - own) / elapsed,
    }


def _enlisting(run: _EchoRun, fleet: list[_Echo]) -> Callable[[], _Echo]:
    """A listener factory (taking no arguments, as picows expects) adding each new client to ``fleet``."""

    def factory() -> _Echo:
        fleet.append(_Echo(run))
        return fleet[-1]

    return factory


async def echo(
    targets: list[Target], clients: int, size: int, rounds: int, window: float, warmup: float
) -> dict[str, list[dict[str, float]]]:
    """Per target and window: round trips per second and latency percentiles of ``clients`` closed-loop clients."""
    return await _closed_loop(targets, "/echo", b"x" * size, clients, rounds, window, warmup)


async def typed(
    targets: list[Target], kinds: list[str], clients: int, size: int, rounds: int, window: float, warmup: float
) -> dict[str, dict[str, list[dict[str, float]]]]:
    """Per payload kind, ``echo``'s figures for the typed echo; each target's reply is checked and warmed first."""
    from .targets.typed import frame, reply

    message, expected = frame("x" * size), reply("x" * size)
    results = {}
    for kind in kinds:
        path = f"/typed/{kind}"
        for target in targets:
            got: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            transport, _ = await ws_connect(_answer_into(got), f"{target.url}{path}", websocket_handshake_timeout=30)
            transport.send(WSMsgType.TEXT, message.encode())
            answer = await asyncio.wait_for(got, 30)
            await _close_all([transport])
            if answer != expected:
                raise RuntimeError(f"{target.name} answered {answer[:200]!r} to the typed echo, not {expected[:200]!r}")
        results[kind] = await _closed_loop(targets, path, message.encode(), clients, rounds, window, warmup, warm=True)
    return results


async def _closed_loop(
    targets: list[Target],
    path: str,
    payload: bytes,
    clients: int,
    rounds: int,
    window: float,
    warmup: float,
    warm: bool = False,
) -> dict[str, list[dict[str, float]]]:
    """The closed-loop windows of ``echo``; with ``warm``, one unrecorded window per target first."""
    runs: dict[str, _EchoRun] = {}
    fleets: dict[str, list[_Echo]] = {}
    transports: list[WSTransport] = []
    for target in targets:
        run = runs[target.name] = _EchoRun(payload)
        fleet = fleets[target.name] = []
        transports += await _open_all(f"{target.url}{path}", _enlisting(run, fleet), clients)

    async def one(target: Target) -> dict[str, float]:
        run = runs[target.name]
        run.start(fleets[target.name])
        await asyncio.sleep(warmup)
        run.recording = True
        started = time.perf_counter()
        await asyncio.sleep(window)
        run.recording = False
        elapsed = time.perf_counter() - started
        run.running = False
        await asyncio.wait_for(run.done, 30)
        latencies = sorted(run.latencies)
        if not latencies:
            raise RuntimeError(f"{target.name}: no round trip completed in the window")
        return {
            "rate": len(latencies) / elapsed,
            "p50_ms": latencies[len(latencies) // 2] / 1e6,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] / 1e6,
        }

    if warm:
        for target in targets:
            await one(target)
    results: dict[str, list[dict[str, float]]] = {target.name: [] for target in targets}
    for turn in _turns(targets, rounds):
        for target in turn:
            results[target.name].append(await _window(target, one))
    await _close_all(transports)
    return results


class _Waiter(WSListener):
    """A client that hands each complete text message to ``on_text``."""

    def __init__(self, on_text: Callable[[_Waiter, str], None]) -> None:
        self.on_text = on_text
        self.transport: WSTransport | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type is WSMsgType.TEXT and frame.fin:
            self.on_text(self, frame.get_payload_as_ascii_text())


def _answer_into(got: asyncio.Future[str]) -> Callable[[], _Waiter]:
    """A listener factory whose listener puts the first text message it gets into ``got``."""

    def keep(_: _Waiter, text: str) -> None:
        if not got.done():
            got.set_result(text)

    return lambda: _Waiter(keep)


class _Visit(asyncio.Protocol):
    """One short WebSocket visit over a raw socket: handshake, one 32-byte echo, close; done when the server hangs up.

    Written on a bare asyncio protocol, with the request and the masked frames built once, so that a
    connection costs the load generator far less than it costs any server: ``connect`` then measures
    the server, not the client (``ws_connect`` cost the client more than picows's own server).
    """

    REQUEST = b""
    FRAME = bytes([0x81, 0x80 | 32, 1, 2, 3, 4]) + bytes(b ^ (1, 2, 3, 4)[i % 4] for i, b in enumerate(b"x" * 32))
    CLOSE = bytes([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xE8 ^ 2])  # 1000, masked
    ECHO = bytes([0x81, 32]) + b"x" * 32

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done
        self.state = 0
        self.seen = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.REQUEST)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.seen += data
        assert self.transport is not None
        if self.state == 0:
            end = self.seen.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.seen.startswith(b"HTTP/1.1 101"):
                self._fail(f"handshake refused: {self.seen[:40]!r}")
                return
            self.seen, self.state = self.seen[end + 4 :], 1
            self.transport.write(self.FRAME)
        if self.state == 1 and len(self.seen) >= len(self.ECHO):
            if not self.seen.startswith(self.ECHO):
                self._fail(f"unexpected echo: {self.seen[:40]!r}")
                return
            self.seen, self.state = self.seen[len(self.ECHO) :], 2
            self.transport.write(self.CLOSE)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
            return
        if self.state == 2:
            self.done.set_result(None)
        else:
            self.done.set_exception(RuntimeError(f"the server hung up before the echo ({exc})"))

    def _fail(self, why: str) -> None:
        if not self.done.done():
            self.done.set_exception(RuntimeError(why))
        assert self.transport is not None
        self.transport.abort()


def _visit_request(url: str) -> tuple[str, int, bytes]:
    rest = url.removeprefix("ws://")
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    request = (
        f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    return host, int(port), request.encode()


async def connect(
    targets: list[Target], concurrency: int, rounds: int, window: float
) -> dict[str, list[dict[str, float]]]:
    """Per target and window: connections per second, each opening, making one 32-byte echo and closing."""

    async def one(target: Target) -> dict[str, float]:
        completed = 0
        deadline = time.perf_counter() + window
        host, port, request = _visit_request(f"{target.url}/echo")
        loop = asyncio.get_running_loop()

        async def worker() -> None:
            nonlocal completed
            while time.perf_counter() < deadline:
                done: asyncio.Future[None] = loop.create_future()
                protocol = _Visit(done)
                protocol.REQUEST = request
                await loop.create_connection(lambda p=protocol: p, host, port)  # type: ignore[misc]
                await asyncio.wait_for(done, 30)
                completed += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return {"rate": completed / (time.perf_counter() - started)}

    results: dict[str, list[dict[str, float]]] = {target.name: [] for target in targets}
    for turn in _turns(targets, rounds):
        for target in turn:
            results[target.name].append(await _window(target, one))
    return results


async def idle(url: str, count: int) -> dict[str, Any]:
    """Open ``count`` sessions, make one echo on each, report, and hold them until stdin closes."""
    loop = asyncio.get_running_loop()
    answered = 0
    all_answered = loop.create_future()

    def on_text(_: _Waiter, text: str) -> None:
        nonlocal answered
        answered += 1
        if answered == count and not all_answered.done():
            all_answered.set_result(None)

    transports = await _open_all(f"{url}/echo", lambda: _Waiter(on_text), count)
    for transport in transports:
        transport.send(WSMsgType.TEXT, b"hi")
    await asyncio.wait_for(all_answered, 60)
    print(json.dumps({"open": count}), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    await _close_all(transports)
    return {"open": count, "closed": True}


async def broadcast(urls: list[str], sessions: int, rounds: int) -> dict[str, Any]:
    """Per round, seconds from one member's ``go:`` until the last of ``sessions`` members got the message.

    The sessions are spread evenly over ``urls`` (several processes sharing a Redis hub).
    """
    loop = asyncio.get_running_loop()
    state: dict[str, Any] = {"tag": "joined", "left": sessions, "done": loop.create_future()}

    def on_text(_: _Waiter, text: str) -> None:
        if text == state["tag"]:
            state["left"] -= 1
            if state["left"] == 0:
                state["done"].set_result(time.perf_counter())

    listeners: list[_Waiter] = []

    def factory() -> _Waiter:
        listeners.append(_Waiter(on_text))
        return listeners[-1]

    share = [sessions // len(urls) + (i < sessions % len(urls)) for i in range(len(urls))]
    transports = [t for url, n in zip(urls, share, strict=True) for t in await _open_all(f"{url}/room", factory, n)]
    await asyncio.wait_for(state["done"], 60)
    await asyncio.sleep(0.5)  # every process's subscription is in place
    times: list[float] = []
    for n in range(rounds):
        state.update(tag=f"r{n}", left=sessions, done=loop.create_future())
        started = time.perf_counter()
        transports[0].send(WSMsgType.TEXT, f"go:r{n}".encode())
        times.append(await asyncio.wait_for(state["done"], 60) - started)
        await asyncio.sleep(0.1)
    await _close_all(transports)
    return {"sessions": sessions, "times": times}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", type=int, help="pin this process to one CPU")
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("echo")
    one.add_argument("targets", nargs="+", type=Target.parse, metavar="NAME=URL@PID")
    one.add_argument("--clients", type=int, default=10)
    one.add_argument("--size", type=int, default=32)
    one.add_argument("--rounds", type=int, default=12)
    one.add_argument("--window", type=float, default=0.25)
    one.add_argument("--warmup", type=float, default=0.1)
    one = commands.add_parser("typed")
    one.add_argument("targets", nargs="+", type=Target.parse, metavar="NAME=URL@PID")
    one.add_argument("--kinds", nargs="+", default=list(TYPED_KINDS), choices=TYPED_KINDS)
    one.add_argument("--clients", type=int, default=10)
    one.add_argument("--size", type=int, default=32)
    one.add_argument("--rounds", type=int, default=12)
    one.add_argument("--window", type=float, default=0.25)
    one.add_argument("--warmup", type=float, default=0.1)
    one = commands.add_parser("connect")
    one.add_argument("targets", nargs="+", type=Target.parse, metavar="NAME=URL@PID")
    one.add_argument("--concurrency", type=int, default=10)
    one.add_argument("--rounds", type=int, default=12)
    one.add_argument("--window", type=float, default=0.25)
    one = commands.add_parser("idle")
    one.add_argument("url")
    one.add_argument("--count", type=int, default=2000)
    one = commands.add_parser("broadcast")
    one.add_argument("url", nargs="+")
    one.add_argument("--sessions", type=int, default=1000)
    one.add_argument("--rounds", type=int, default=5)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    work: Coroutine[Any, Any, Any]
    if args.command == "echo":
        work = echo(args.targets, args.clients, args.size, args.rounds, args.window, args.warmup)
    elif args.command == "typed":
        work = typed(args.targets, args.kinds, args.clients, args.size, args.rounds, args.window, args.warmup)
    elif args.command == "connect":
        work = connect(args.targets, args.concurrency, args.rounds, args.window)
    elif args.command == "idle":
        work = idle(args.url, args.count)
    else:
        work = broadcast(args.url, args.sessions, args.rounds)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(work)
    else:
        result = uvloop.run(work)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
