"""The server-free view: one target's ASGI app driven directly, no network, to see what pyfly-ws itself costs.

    python -m bench.micro [--targets raw pyfly-asgi ...] [--connections 2000] [--messages 20000]
    python -m bench.micro --profile pyfly-asgi        (cProfile of the message path, top 25)
    python -m bench.micro --targets typed              (the typed echo: every TARGET/KIND below)

Three figures per target, on asyncio (uvloop when installed): the microseconds one
connection costs (connect, accept, one echo, disconnect) and the microseconds one echoed
message costs on an open session, each the best of five rounds; and the Python heap bytes
(tracemalloc) one idle open session holds, over 1,000 of them. The ASGI messages are made
in memory, so what remains is the application's and the framework's own work.

A typed echo target is named ``TARGET/KIND`` (``msg-pyfly-asgi/pydantic``, ``msg-hand-asgi/pydantic``...):
its messages are ``{"type": "echo", "id": 1, "data": {"text": 32 characters}}`` sent to
``/typed/KIND``, and the reply is checked.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import time
import tracemalloc
from collections import deque
from typing import Any

from .targets import METERED, PLAIN, SIGNED, TARGETS, TYPED_KINDS, TYPED_TARGETS, build

_SCOPE: dict[str, Any] = {
    "type": "websocket",
    "asgi": {"version": "3.0", "spec_version": "2.4"},
    "http_version": "1.1",
    "scheme": "ws",
    "server": ("127.0.0.1", 8000),
    "client": ("127.0.0.1", 50000),
    "root_path": "",
    "path": "/echo",
    "raw_path": b"/echo",
    "query_string": b"",
    "headers": [(b"host", b"127.0.0.1:8000"), (b"upgrade", b"websocket"), (b"connection", b"upgrade")],
    "subprotocols": [],
    "state": {},
    "extensions": {"websocket.http.response": {}},
}


class Work:
    """What one target's connections do: the scope, the text of each message, and the reply expected (if checked)."""

    __slots__ = ("target", "scope", "text", "reply")

    def __init__(self, target: str, path: str = "/echo", text: str = "x" * 32, reply: str | None = None) -> None:
        self.target = target
        self.scope = {**_SCOPE, "path": path, "raw_path": path.encode()}
        """Copied for each connection."""
        self.text = text
        self.reply = reply

    @classmethod
    def of(cls, name: str) -> Work:
        """``TARGET`` (the plain echo) or ``TARGET/KIND`` (the typed echo of one payload kind)."""
        target, _, kind = name.partition("/")
        if target in SIGNED:  # each connection offers a token, which the session is signed in with
            from .targets.pyfly import signed_subprotocols

            work = cls(target)
            work.scope["subprotocols"] = signed_subprotocols(target == SIGNED[1])
            return work
        if not kind:
            return cls(target)
        from .targets.typed import frame, reply

        return cls(target, f"/typed/{kind}", frame("x" * 32), reply("x" * 32))


ECHO = Work("")


def typed_names() -> list[str]:
    """Every typed echo target of ``bench.micro``: ``TARGET/KIND``."""
    return [f"{target}/{kind}" for target in TYPED_TARGETS for kind in TYPED_KINDS]


class _Peer:
    """The server side of one in-memory connection: ``messages`` echoes, then a disconnect (or silence, to ``hold``)."""

    def __init__(self, messages: int, hold: bool = False, text: str = ECHO.text) -> None:
        self.inbox: deque[dict[str, Any]] = deque([{"type": "websocket.connect"}])
        self.left = messages
        self.hold = hold
        self.text = text
        self.waiting: asyncio.Future[None] | None = None
        self.echoes = 0
        self.last: str | None = None

    def _push(self) -> None:
        if self.left > 0:
            self.left -= 1
            self.inbox.append({"type": "websocket.receive", "text": self.text})
        elif not self.hold:
            self.inbox.append({"type": "websocket.disconnect", "code": 1000})
        self._wake()

    def _wake(self) -> None:
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(None)

    def leave(self) -> None:
        """The client goes away."""
        self.inbox.append({"type": "websocket.disconnect", "code": 1000})
        self._wake()

    async def receive(self) -> dict[str, Any]:
        while not self.inbox:
            self.waiting = asyncio.get_running_loop().create_future()
            await self.waiting
        return self.inbox.popleft()

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.accept" or kind == "websocket.send":
            if kind == "websocket.send":
                self.echoes += 1
                self.last = message.get("text")
            self._push()
        elif kind == "websocket.close":
            self.leave()


async def _lifespan(app: Any) -> Any:
    """Start ``app``'s lifespan; returns a coroutine function that shuts it down."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()
    stopped = asyncio.Event()
    inbox.put_nowait({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()
        else:
            stopped.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.ensure_future(app(scope, inbox.get, send))
    await started.wait()

    async def stop() -> None:
        inbox.put_nowait({"type": "lifespan.shutdown"})
        await stopped.wait()
        await task

    return stop


async def _connections(app: Any, count: int, work: Work = ECHO) -> float:
    started = time.perf_counter()
    for _ in range(count):
        peer = _Peer(1, text=work.text)
        await app(dict(work.scope), peer.receive, peer.send)
    return (time.perf_counter() - started) / count * 1e6


async def _messages(app: Any, count: int, work: Work = ECHO) -> float:
    peer = _Peer(count, text=work.text)
    started = time.perf_counter()
    await app(dict(work.scope), peer.receive, peer.send)
    elapsed = time.perf_counter() - started
    assert peer.echoes == count, (peer.echoes, count)
    if work.reply is not None and peer.last != work.reply:
        raise RuntimeError(f"{work.target} {work.scope['path']} answered {peer.last!r}, not {work.reply!r}")
    return elapsed / count * 1e6


async def _idle_bytes(app: Any, count: int, work: Work = ECHO) -> float:
    """Python heap bytes (tracemalloc) per session open and waiting for a message."""
    peers = [_Peer(1, hold=True, text=work.text) for _ in range(count)]  # one echo, then wait
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.ensure_future(app(dict(work.scope), peer.receive, peer.send)) for peer in peers]
    for _ in range(500):  # each session accepted and echoed, so it waits in receive
        if all(peer.echoes for peer in peers):
            break
        await asyncio.sleep(0.01)
    else:
        raise RuntimeError("the sessions did not all answer within 5 s")
    await asyncio.sleep(0.05)
    gc.collect()
    during = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    for peer in peers:
        peer.leave()
    await asyncio.gather(*tasks)
    return (during - before) / count


async def measure(name: str, connections: int, messages: int) -> tuple[float, float, float]:
    """Best of five: microseconds per connection and per echoed message; heap bytes per idle session."""
    work = Work.of(name)
    app = build(work.target)
    stop = await _lifespan(app)
    try:
        await _connections(app, 100, work)
        per_connection = min([await _connections(app, connections, work) for _ in range(5)])
        per_message = min([await _messages(app, messages, work) for _ in range(5)])
        idle = await _idle_bytes(app, 1000, work)
    finally:
        await stop()
    return per_connection, per_message, idle


def _run(work: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.micro", description=__doc__.splitlines()[0])
    names = (*TARGETS, PLAIN, METERED, *SIGNED, *typed_names())
    parser.add_argument(
        "--targets", nargs="+", choices=(*names, "typed"), default=list(TARGETS), help="typed: every TARGET/KIND"
    )
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--profile", choices=names, help="profile one target's message and connection paths")
    args = parser.parse_args(argv)
    if args.profile:
        os.environ["BENCH_TARGET"] = Work.of(args.profile).target
        profiler = cProfile.Profile()
        profiler.enable()
        _run(measure(args.profile, args.connections, args.messages))
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    targets = expand(args.targets)
    width = max(16, *map(len, targets))
    print(f"{'target':<{width}} {'µs/connection':>14} {'µs/message':>11} {'heap B/idle session':>20}")
    for target in targets:
        per_connection, per_message, idle = _run(measure(target, args.connections, args.messages))
        print(f"{target:<{width}} {per_connection:>14.1f} {per_message:>11.2f} {idle:>20,.0f}", flush=True)


def expand(names: list[str]) -> list[str]:
    """``names`` with ``typed`` standing for every typed echo target."""
    return [one for name in names for one in (typed_names() if name == "typed" else [name])]


if __name__ == "__main__":
    main()
