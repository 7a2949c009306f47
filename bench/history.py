"""What history costs: broadcast over Redis with the room's history on against off, and recovering missed messages.

    python -m bench.history [--rounds 9] [--sessions 1000] [--messages 100] [--missed 1000] [--out DIR]

One real Redis and four uvicorn processes (``websockets-sansio``), two per app:
``pyfly-history-off`` and ``pyfly-history-on`` (:mod:`bench.targets.history`),
identical but for ``Hub(..., history=HistoryPolicy(size=1000, ttl=600))``. Redis and
the servers run on CPU 0, this process (the picows clients, on uvloop) on CPU 1.

Broadcast: for each app, ``--sessions`` members of one room, spread evenly over its
two processes, and a publisher (not a member) on the first process, all connected
before measuring. A round sends the publisher one ``burst`` message; it publishes
``--messages`` pushes ``said`` ``{"r", "n"}`` one after the other (with history,
each is numbered, stored and published by one Lua script; without, one PUBLISH).
Measured: the seconds from sending ``burst`` until the last member has the last
message, and deliveries per second (sessions x messages / seconds). Each round
measures both apps, the order alternating; the ratio on/off is the median of the
per-round ratios of deliveries per second (1.00: history costs nothing).

Publishing: the same, with one member (on the second process) and ``--missed``
messages a round, so the publications' own cost is not hidden by the fan-out.

Recovery (the app with history): a member joins on the second process and leaves,
``--missed`` messages are published on the first, and it reconnects with
``?since=`` its last position. Measured: the seconds from starting to connect until
the ``recovered`` push, which follows the replayed frames; against the seconds
from sending ``burst`` until the same member, connected, has as many live messages
(the same frames). The order of the two alternates per round; the ratio is the
median of the per-round ratios recovery/live.

Every member's messages are checked: each round's, in order, each once, none
more; the ``recovered`` push must report every one replayed. Anything else stops
the run with an error rather than a figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from .load import _close_all, _open_all
from .targets import HISTORY_TARGETS
from .targets.history import HISTORY, MAX_BURST

SERVER = "uvicorn-sansio"
SERVER_CPU, CLIENT_CPU = 0, 1
OFF, ON = HISTORY_TARGETS
ROOMS = {OFF: "bench-off", ON: "bench-on"}
"""One room per app: Redis's pub/sub channels span its databases, so the two apps must not share a room's name."""
RECOVERY_ROOM = "recover"
TIMEOUT = 120.0
"""Seconds any one wait may take before the run counts as broken."""
SETTLE = 0.2
"""Seconds waited after each measurement (not timed) for a late duplicate or extra message to show."""


class Broken(RuntimeError):
    """The run went wrong: a message lost, duplicated or out of order, an error frame, a session closed."""


class Crowd:
    """The members of one app: what each must get in the current round, and whether all have."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tag = ""
        self.count = 0
        self.left = 0
        self.errors: list[str] = []
        self.done: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def expect(self, tag: str, count: int, members: list[Member]) -> None:
        """The next round: each of ``members`` must get the messages ``0..count-1`` of ``tag``, in order, once."""
        self.check()
        self.tag, self.count, self.left = tag, count, len(members)
        self.done = asyncio.get_running_loop().create_future()
        for member in members:
            member.got = 0

    def said(self, member: Member, frame: dict[str, Any]) -> None:
        data = frame.get("data") or {}
        if data.get("r") != self.tag or data.get("n") != member.got or member.got >= self.count:
            self.fail(f"a member got {data} while expecting r={self.tag!r} n={member.got} of {self.count}")
            return
        member.got += 1
        member.position = frame.get("position")
        if member.got == self.count:
            self.left -= 1
            if self.left == 0 and not self.done.done():
                self.done.set_result(time.perf_counter())

    def fail(self, why: str) -> None:
        self.errors.append(why)
        if not self.done.done():
            self.done.set_exception(Broken(f"{self.name}: {why}"))
            self.done.exception()  # reported by check() or by the wait, whichever comes first: no warning

    def check(self) -> None:
        """Raise :class:`Broken` if anything went wrong so far."""
        if self.errors:
            shown = "\n  ".join(self.errors[:5])
            raise Broken(f"{self.name}: {len(self.errors)} problems, the first:\n  {shown}")


class Member(WSListener):
    """One client session: hands each frame to its crowd; notes ``joined``, ``recovered`` and replies."""

    def __init__(self, crowd: Crowd) -> None:
        self.crowd = crowd
        self.transport: WSTransport | None = None
        self.got = 0
        self.position: str | None = None
        self.leaving = False
        loop = asyncio.get_running_loop()
        self.joined: asyncio.Future[float] = loop.create_future()
        self.recovered: asyncio.Future[tuple[float, dict[str, Any]]] = loop.create_future()
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type is WSMsgType.CLOSE:
            if not self.leaving:
                self.crowd.fail(f"the server closed a session: {frame.get_close_code()}")
            return
        if frame.msg_type is not WSMsgType.TEXT:
            return
        if not frame.fin:
            self.crowd.fail("a fragmented frame")
            return
        message = json.loads(frame.get_payload_as_utf8_text())
        kind = message.get("type")
        if kind == "said":
            self.crowd.said(self, message)
        elif kind == "joined" and not self.joined.done():
            self.position = message["data"]["position"]
            self.joined.set_result(time.perf_counter())
        elif kind == "recovered" and not self.recovered.done():
            self.recovered.set_result((time.perf_counter(), message["data"]))
        elif kind == "reply":
            self.replies.put_nowait(message)
        else:
            self.crowd.fail(f"an unexpected frame: {message!r:.200}")

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if not self.leaving:
            self.crowd.fail("a session was disconnected")

    def send(self, message: dict[str, Any]) -> None:
        assert self.transport is not None
        self.transport.send(WSMsgType.TEXT, json.dumps(message).encode())


async def _wait(future: asyncio.Future[Any], crowd: Crowd) -> Any:
    try:
        return await asyncio.wait_for(asyncio.shield(future), TIMEOUT)
    except TimeoutError:
        crowd.check()
        raise Broken(f"{crowd.name}: nothing complete after {TIMEOUT:.0f} s ({crowd.left} members short)") from None


async def _connect(url: str, crowd: Crowd) -> Member:
    made: list[Member] = []

    def factory() -> Member:
        made.append(Member(crowd))
        return made[-1]

    await ws_connect(factory, url, websocket_handshake_timeout=30)
    return made[0]


async def _leave(members: list[Member]) -> None:
    for member in members:
        member.leaving = True
    await _close_all([m.transport for m in members if m.transport is not None])


async def _burst(publisher: Member, crowd: Crowd, tag: str, count: int) -> None:
    """Ask ``publisher`` for a burst of ``count`` messages tagged ``tag``; return once it answered."""
    publisher.send({"type": "burst", "id": tag, "data": {"count": count, "r": tag}})
    reply = await _wait(asyncio.ensure_future(publisher.replies.get()), crowd)
    if reply.get("id") != tag or reply.get("data") != {"sent": count}:
        raise Broken(f"{crowd.name}: the publisher answered {reply!r:.200} to burst {tag}")


async def _delivered(publisher: Member, crowd: Crowd, members: list[Member], tag: str, count: int) -> float:
    """Seconds from asking for a burst until every one of ``members`` has all of it (checked)."""
    crowd.expect(tag, count, members)
    started = time.perf_counter()
    publisher.send({"type": "burst", "id": tag, "data": {"count": count, "r": tag}})
    finished: float = await _wait(crowd.done, crowd)
    reply = await _wait(asyncio.ensure_future(publisher.replies.get()), crowd)
    if reply.get("id") != tag or reply.get("data") != {"sent": count}:
        raise Broken(f"{crowd.name}: the publisher answered {reply!r:.200} to burst {tag}")
    await asyncio.sleep(SETTLE)
    crowd.check()
    short = [m.got for m in members if m.got != count]
    if short:
        raise Broken(f"{crowd.name}: {len(short)} members got other than {count} messages of {tag}: {short[:5]}")
    return finished - started


class App:
    """One app's clients: its members, spread over its two processes, and its publisher."""

    def __init__(self, name: str, urls: list[str]) -> None:
        self.name, self.urls = name, urls
        self.crowd = Crowd(name)
        self.members: list[Member] = []
        self.publisher: Member | None = None

    async def open(self, sessions: int) -> None:
        def factory() -> Member:
            self.members.append(Member(self.crowd))
            return self.members[-1]

        share = [sessions // len(self.urls) + (i < sessions % len(self.urls)) for i in range(len(self.urls))]
        for url, n in zip(self.urls, share, strict=True):
            await _open_all(f"{url}/room/{ROOMS[self.name]}", factory, n)
        for member in self.members:
            await _wait(member.joined, self.crowd)
        self.publisher = await _connect(f"{self.urls[0]}/room/{ROOMS[self.name]}?publisher", self.crowd)

    async def broadcast(self, tag: str, count: int) -> float:
        assert self.publisher is not None
        return await _delivered(self.publisher, self.crowd, self.members, tag, count)

    async def close(self) -> None:
        await _leave([*self.members, *([self.publisher] if self.publisher else [])])


async def broadcast(urls: dict[str, list[str]], rounds: int, sessions: int, messages: int) -> dict[str, list[float]]:
    """Per round, seconds until every member of each app had all ``messages``: off and on, alternately."""
    apps = {name: App(name, urls[name]) for name in (OFF, ON)}
    try:
        for app in apps.values():
            await app.open(sessions)
        for app in apps.values():  # both warmed alike; every process's subscription is in place after it
            await app.broadcast("warm", min(messages, 20))
        seconds: dict[str, list[float]] = {OFF: [], ON: []}
        for r in range(rounds):
            for name in (OFF, ON) if r % 2 == 0 else (ON, OFF):
                seconds[name].append(await apps[name].broadcast(f"b{r}", messages))
    finally:
        for app in apps.values():
            await app.close()
    return seconds


async def publishing(urls: dict[str, list[str]], rounds: int, count: int) -> dict[str, list[float]]:
    """Per round, seconds until one member of each app had ``count`` messages: off and on, alternately."""
    crowds = {name: Crowd(f"{name} publishing") for name in (OFF, ON)}
    room = {name: f"/room/{ROOMS[name]}-one" for name in (OFF, ON)}
    publishers = {name: await _connect(f"{urls[name][0]}{room[name]}?publisher", crowds[name]) for name in (OFF, ON)}
    members = {name: await _connect(f"{urls[name][1]}{room[name]}", crowds[name]) for name in (OFF, ON)}
    try:
        for name in (OFF, ON):
            await _wait(members[name].joined, crowds[name])
            await _delivered(publishers[name], crowds[name], [members[name]], "warm", min(count, 100))
        seconds: dict[str, list[float]] = {OFF: [], ON: []}
        for r in range(rounds):
            for name in (OFF, ON) if r % 2 == 0 else (ON, OFF):
                seconds[name].append(await _delivered(publishers[name], crowds[name], [members[name]], f"p{r}", count))
    finally:
        await _leave([*publishers.values(), *members.values()])
    return seconds


async def recovery(urls: list[str], rounds: int, missed: int) -> dict[str, list[float]]:
    """Per round, seconds to rejoin and get ``missed`` messages replayed, and to get as many live."""
    crowd = Crowd(f"{ON} recovery")
    first, second = urls
    publisher = await _connect(f"{first}/room/{RECOVERY_ROOM}?publisher", crowd)
    seconds: dict[str, list[float]] = {"join": [], "replay": [], "live": []}
    room = f"{second}/room/{RECOVERY_ROOM}"
    try:
        for r in range(-1, rounds):  # round -1 warms both paths up, unrecorded
            replay_first = r % 2 == 0
            started = time.perf_counter()
            member = await _connect(room, crowd)
            joined = await _wait(member.joined, crowd) - started
            live = 0.0
            if not replay_first:
                live = await _delivered(publisher, crowd, [member], f"l{r}", missed)
            position = member.position
            if position is None:
                raise Broken(f"{crowd.name}: the member has no position to rejoin from")
            await _leave([member])
            crowd.expect(f"m{r}", missed, [])  # the member is away: nobody to deliver to
            await _burst(publisher, crowd, f"m{r}", missed)
            crowd.check()
            started = time.perf_counter()
            back = await _connect(f"{room}?since={position}", crowd)  # counted from 0 by the expect above
            finished, notice = await _wait(back.recovered, crowd)
            replay = finished - started
            await asyncio.sleep(SETTLE)
            crowd.check()
            wanted = {"recovered": True, "missed": None, "replayed": missed}
            if back.got != missed or {key: notice.get(key) for key in wanted} != wanted:
                raise Broken(f"{crowd.name}: {back.got} of {missed} replayed before {notice!r:.200}")
            if replay_first:
                live = await _delivered(publisher, crowd, [back], f"l{r}", missed)
            await _leave([back])
            if r >= 0:
                seconds["join"].append(joined)
                seconds["replay"].append(replay)
                seconds["live"].append(live)
    finally:
        await _leave([publisher])
    return seconds


@contextmanager
def _pinned(cpu: int) -> Iterator[None]:
    """Run the block on ``cpu`` (when this machine has two); what it starts inherits it."""
    mask = os.sched_getaffinity(0)
    if len(mask) >= 2:
        os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, mask)


def _run(work: Coroutine[Any, Any, Any]) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)


def measure(rounds: int, sessions: int, messages: int, missed: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Start Redis and the four servers on CPU 0, then measure from CPU 1: every sample, in seconds."""
    from tests.redis.redis_server import redis_server

    from .run import _serve

    with ExitStack() as stack:
        with _pinned(SERVER_CPU):
            redis = stack.enter_context(redis_server())
            urls = {
                name: [_serve(stack, SERVER, name, {"BENCH_REDIS_URL": redis.url}).url for _ in range(2)]
                for name in (OFF, ON)
            }
        log(f"Redis and {SERVER} x4 started")
        with _pinned(CLIENT_CPU):
            spread = _run(broadcast(urls, rounds, sessions, messages))
            log(f"broadcast measured: {rounds} rounds x 2 apps, {sessions} sessions x {messages} messages")
            alone = _run(publishing(urls, rounds, missed))
            log(f"publishing measured: {rounds} rounds x 2 apps, 1 session x {missed} messages")
            recovered = _run(recovery(urls[ON], rounds, missed))
            log(f"recovery measured: {rounds} rounds, {missed} messages")
    return {"broadcast": spread, "publishing": alone, "recovery": recovered}


def summary(samples: dict[str, Any], sessions: int, messages: int, missed: int) -> dict[str, float]:
    """The medians (ms, deliveries/s) and the ratios (medians of the per-round ratios)."""
    spread, alone, back = samples["broadcast"], samples["publishing"], samples["recovery"]
    deliveries, published = sessions * messages, missed
    return {
        "broadcast off ms": statistics.median(spread[OFF]) * 1000,
        "broadcast on ms": statistics.median(spread[ON]) * 1000,
        "deliveries/s off": deliveries / statistics.median(spread[OFF]),
        "deliveries/s on": deliveries / statistics.median(spread[ON]),
        "deliveries/s on/off": statistics.median(a / b for a, b in zip(spread[OFF], spread[ON], strict=True)),
        "publishing off ms": statistics.median(alone[OFF]) * 1000,
        "publishing on ms": statistics.median(alone[ON]) * 1000,
        "publications/s off": published / statistics.median(alone[OFF]),
        "publications/s on": published / statistics.median(alone[ON]),
        "publications/s on/off": statistics.median(a / b for a, b in zip(alone[OFF], alone[ON], strict=True)),
        "join ms": statistics.median(back["join"]) * 1000,
        "replay ms": statistics.median(back["replay"]) * 1000,
        "live ms": statistics.median(back["live"]) * 1000,
        "replay/live": statistics.median(a / b for a, b in zip(back["replay"], back["live"], strict=True)),
    }


def render(command: str, plan: dict[str, int], figures: dict[str, float]) -> str:
    """The figures as Markdown."""
    rounds, sessions, messages, missed = (plan[k] for k in ("rounds", "sessions", "messages", "missed"))
    return (
        f"`{command}`: {rounds} rounds, medians.\n\n"
        f"Broadcast over Redis, {sessions} sessions on two {SERVER} processes, {messages} messages a round:\n\n"
        "| history | ms until all delivered | deliveries/s |\n| --- | --- | --- |\n"
        f"| off | {figures['broadcast off ms']:.1f} | {figures['deliveries/s off']:,.0f} |\n"
        f"| on | {figures['broadcast on ms']:.1f} | {figures['deliveries/s on']:,.0f} |\n\n"
        f"Deliveries/s on/off (median of the per-round ratios): {figures['deliveries/s on/off']:.3f}\n\n"
        f"One member, {missed} messages a round (what publishing costs, the fan-out aside):\n\n"
        "| history | ms until all delivered | publications/s |\n| --- | --- | --- |\n"
        f"| off | {figures['publishing off ms']:.1f} | {figures['publications/s off']:,.0f} |\n"
        f"| on | {figures['publishing on ms']:.1f} | {figures['publications/s on']:,.0f} |\n\n"
        f"Publications/s on/off (median of the per-round ratios): {figures['publications/s on/off']:.3f}\n\n"
        f"Recovery of {missed} missed messages (history on), one member:\n\n"
        "| what | ms |\n| --- | --- |\n"
        f"| join, no `since` (connect to `joined`) | {figures['join ms']:.1f} |\n"
        f"| rejoin with `since` (connect to `recovered`, {missed} replayed) | {figures['replay ms']:.1f} |\n"
        f"| {missed} live messages (`burst` to the last) | {figures['live ms']:.1f} |\n\n"
        f"Replay/live (median of the per-round ratios): {figures['replay/live']:.3f}\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="measured rounds of each figure (default 9)")
    parser.add_argument("--sessions", type=int, default=1000, help="members of the broadcast room (default 1000)")
    parser.add_argument("--messages", type=int, default=100, help="messages per broadcast round (default 100)")
    parser.add_argument("--missed", type=int, default=1000, help="messages a recovering member missed (default 1000)")
    parser.add_argument("--out", type=Path, help="also write DIR/results.md and DIR/results.json")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.sessions < 2:
        parser.error("--rounds is at least 1 and --sessions at least 2")
    if not 1 <= args.messages <= MAX_BURST:
        parser.error(f"--messages is 1 to {MAX_BURST} (each member's send queue holds a whole burst)")
    if not 1 <= args.missed <= HISTORY.size:
        parser.error(f"--missed is 1 to {HISTORY.size} (what the room keeps)")
    command = shlex.join(["python", "-m", "bench.history", *(sys.argv[1:] if argv is None else argv)])
    plan = {"rounds": args.rounds, "sessions": args.sessions, "messages": args.messages, "missed": args.missed}
    started = time.monotonic()
    samples = measure(
        args.rounds,
        args.sessions,
        args.messages,
        args.missed,
        log=lambda line: print(f"[{time.monotonic() - started:4.0f} s] {line}", flush=True),
    )
    figures = summary(samples, args.sessions, args.messages, args.missed)
    text = render(command, plan, figures)
    print(text)
    if args.out is not None:
        from .report import versions

        args.out.mkdir(parents=True, exist_ok=True)
        document = {"command": command, "versions": versions(), "plan": plan, "medians": figures, "samples": samples}
        (args.out / "results.json").write_text(json.dumps(document, indent=1) + "\n")
        (args.out / "results.md").write_text(text)
        print(f"written: {args.out / 'results.md'}, {args.out / 'results.json'}")
    print(f"in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
