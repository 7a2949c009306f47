"""Rooms with history on the in-memory hub: positions, rejoining from one, and what cannot be recovered."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from pyfly_ws.hub import POSITION_MARK, HistoryPolicy, Hub, Joined, Position
from pyfly_ws.testing import ASGIClient
from pyfly_ws.testing.session import TestSession
from tests.support.history_app import build

pytestmark = pytest.mark.anyio


MakeHub = Callable[..., Hub]


def memory_hub(size: int = 100, ttl: float = 60) -> Hub:
    return Hub(history={"h-*": HistoryPolicy(size=size, ttl=ttl)})


@pytest.fixture
def make_hub() -> MakeHub:
    """Hubs keeping the history of the rooms ``h-*`` (``tests/redis`` runs these tests again on Redis)."""
    return memory_hub


@pytest.fixture
async def client(adapter_name: str, make_hub: MakeHub) -> AsyncIterator[ASGIClient]:
    async with ASGIClient(build(make_hub(), adapter_name)) as client:
        yield client


async def frame(ws: TestSession, *types: str) -> dict[str, Any]:
    """The next frame of one of ``types`` (replies and the rest are skipped)."""
    with anyio.fail_after(5):
        while True:
            data = await ws.receive_json()
            if data["type"] in types:
                return data  # type: ignore[no-any-return]


async def replied(ws: TestSession, id: str) -> dict[str, Any]:
    """The reply to the message ``id`` (everything before it is skipped)."""
    while True:
        data = await frame(ws, "reply")
        if data["id"] == id:
            return data


async def said(ws: TestSession, count: int) -> list[dict[str, Any]]:
    return [await frame(ws, "said") for _ in range(count)]


def offsets(frames: list[dict[str, Any]]) -> list[int]:
    return [Position.parse(f["position"]).offset for f in frames]


async def test_each_publication_carries_the_next_position_before_its_data(client: ASGIClient) -> None:
    async with client.connect("/history/h-1") as ws:
        start = Position.parse((await frame(ws, "joined"))["data"]["position"])
        assert start.offset == 0
        for i in range(3):
            await ws.send_json({"type": "say", "id": f"c{i}", "data": {"i": i}})
        got = await said(ws, 3)
        assert offsets(got) == [1, 2, 3]
        assert {Position.parse(f["position"]).epoch for f in got} == {start.epoch}
        assert [list(f) for f in got] == [["type", "position", "data"]] * 3
        assert [f["data"] for f in got] == [{"i": 0}, {"i": 1}, {"i": 2}]


async def test_a_member_rejoining_gets_exactly_what_it_missed_then_live(client: ASGIClient) -> None:
    async with client.connect("/history/h-2") as talker:
        await frame(talker, "joined")
        async with client.connect("/history/h-2") as away:
            await frame(away, "joined")
            await talker.send_json({"type": "say", "id": "a", "data": {"n": -1}})
            last = (await said(away, 1))[0]["position"]
        await talker.send_json({"type": "burst", "id": "b", "data": {"count": 50, "tag": "missed"}})
        await replied(talker, "b")
        async with client.connect(f"/history/h-2?since={last}") as back:
            replayed = await said(back, 50)
            assert [f["data"]["n"] for f in replayed] == list(range(50))
            assert offsets(replayed) == list(range(2, 52))
            notice = await frame(back, "recovered")
            assert notice["data"] == {
                "room": "h-2",
                "recovered": True,
                "missed": None,
                "replayed": 50,
                "position": replayed[-1]["position"],
            }
            await talker.send_json({"type": "say", "id": "c", "data": {"n": "live"}})
            live = await said(back, 1)
            assert offsets(live) == [52] and live[0]["data"] == {"n": "live"}


async def test_a_rejoin_from_the_top_replays_nothing_and_goes_live(client: ASGIClient) -> None:
    async with client.connect("/history/h-3") as ws:
        top = (await frame(ws, "joined"))["data"]["position"]
    async with client.connect(f"/history/h-3?since={top}") as ws:
        notice = await frame(ws, "recovered")
        assert notice["data"]["recovered"] is True and notice["data"]["replayed"] == 0
        await ws.send_json({"type": "say", "id": "a", "data": {}})
        assert offsets(await said(ws, 1)) == [1]


async def test_a_position_trimmed_away_reports_a_gap_and_replays_nothing(adapter_name: str, make_hub: MakeHub) -> None:
    async with ASGIClient(build(make_hub(size=5), adapter_name)) as client:
        async with client.connect("/history/h-4") as ws:
            top = (await frame(ws, "joined"))["data"]["position"]
            await ws.send_json({"type": "burst", "id": "b", "data": {"count": 8}})
            await replied(ws, "b")
        async with client.connect(f"/history/h-4?since={top}") as ws:
            notice = await frame(ws, "recovered", "said")
            assert notice["type"] == "recovered"
            assert notice["data"]["recovered"] is False and notice["data"]["missed"] == "gap"
            assert Position.parse(notice["data"]["position"]).offset == 8  # where it stands now
            assert notice["data"]["replayed"] == 0


async def test_publications_older_than_the_ttl_are_not_replayed(adapter_name: str, make_hub: MakeHub) -> None:
    async with ASGIClient(build(make_hub(ttl=0.2), adapter_name)) as client:
        async with client.connect("/history/h-5") as ws:
            top = (await frame(ws, "joined"))["data"]["position"]
            await ws.send_json({"type": "say", "id": "a", "data": {}})
            await said(ws, 1)
        await anyio.sleep(0.3)
        async with client.connect(f"/history/h-5?since={top}") as ws:
            notice = await frame(ws, "recovered", "said")
            assert notice["data"]["missed"] == "gap"


@pytest.mark.parametrize("since", ["zzzzzzzz-0000000000000000", "not a position", "00000000-0000000000000099"])
async def test_a_position_of_another_history_or_none_at_all_reports_the_epoch(client: ASGIClient, since: str) -> None:
    async with client.connect("/history/h-6") as ws:
        epoch = Position.parse((await frame(ws, "joined"))["data"]["position"]).epoch
    since = since.replace("00000000-", f"{epoch}-")  # the right epoch, an offset it never reached
    async with client.connect(f"/history/h-6?since={since}") as ws:
        notice = await frame(ws, "recovered", "said")
        assert notice["data"]["recovered"] is False and notice["data"]["missed"] == "epoch"
        await ws.send_json({"type": "say", "id": "a", "data": {}})
        assert offsets(await said(ws, 1)) == [1]  # and it is live


async def test_a_room_without_history_says_so(client: ASGIClient) -> None:
    async with client.connect("/history/plain?since=abcdefgh-0000000000000001") as ws:
        notice = await frame(ws, "recovered", "said")
        expected = {"room": "plain", "recovered": False, "missed": "history", "replayed": 0, "position": None}
        assert notice["data"] == expected
        await ws.send_json({"type": "say", "id": "a", "data": {}})
        assert "position" not in await frame(ws, "said")


async def test_the_sender_left_out_is_left_out_of_a_stored_publication(client: ASGIClient) -> None:
    async with client.connect("/history/h-7") as one, client.connect("/history/h-7") as two:
        await frame(one, "joined")
        await frame(two, "joined")
        await one.send_json({"type": "say", "id": "a", "data": {"others": True}})
        assert (await replied(one, "a"))["data"] == {"to": 1}
        assert offsets(await said(two, 1)) == [1]
        await one.send_json({"type": "say", "id": "b", "data": {}})
        assert offsets(await said(one, 1)) == [2]  # the next one it gets: not the first


async def test_a_rejoin_while_the_room_is_busy_loses_nothing_and_repeats_nothing(
    adapter_name: str, make_hub: MakeHub
) -> None:
    """A publisher keeps publishing while a member rejoins from far back: the switch to live has no seam."""
    async with (
        ASGIClient(build(make_hub(size=2000), adapter_name)) as client,
        client.connect("/history/h-8") as publisher,
    ):
        top = (await frame(publisher, "joined"))["data"]["position"]
        await publisher.send_json({"type": "burst", "id": "b1", "data": {"count": 300}})
        await replied(publisher, "b1")
        await publisher.send_json({"type": "burst", "id": "b2", "data": {"count": 300}})  # still going on
        async with client.connect(f"/history/h-8?since={top}") as back:
            got: list[int] = []
            with anyio.fail_after(10):
                while len(got) < 600:
                    data = await back.receive_json()
                    if data["type"] == "said":
                        got.append(Position.parse(data["position"]).offset)
            assert got == list(range(1, 601))


async def test_raw_publications_get_their_position_where_the_mark_is(adapter_name: str, make_hub: MakeHub) -> None:
    hub = make_hub()
    async with ASGIClient(build(hub, adapter_name)) as client, client.connect("/raw/h-9") as ws:
        joined = await ws.receive_text()
        top = hub.position("h-9")
        assert top is not None and top.offset == 0
        assert joined == f"joined {top}"
        await ws.send_text(json.dumps({"at": POSITION_MARK, "text": POSITION_MARK}))
        got = json.loads(await ws.receive_text())
        assert got == {"at": str(Position(top.epoch, 1)), "text": POSITION_MARK}  # only the first mark is filled in
        assert hub.position("h-9") == Position(top.epoch, 1)
        await ws.send_text("no mark")
        assert await ws.receive_text() == "no mark"
        assert hub.position("h-9") == Position(top.epoch, 2)


def test_rooms_match_their_history_by_pattern() -> None:
    hub = memory_hub()
    assert hub.history("h-x") == HistoryPolicy(100, 60) and hub.history("other") is None
    assert hub.position("h-x") is None


def test_positions_travel_as_25_characters_and_parse_back() -> None:
    position = Position("k3j9x2q1", 42)
    assert str(position) == "k3j9x2q1-0000000000000042" and len(str(position)) == len(POSITION_MARK)
    assert Position.parse(str(position)) == position
    assert Position("k3j9x2q1", 1) < position
    for bad in ["", "k3j9x2q1-42", "K3J9X2Q1-0000000000000042", "k3j9x2q1-000000000000004x", 42]:
        with pytest.raises(ValueError, match="not a position"):
            Position.parse(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="epoch"):
        Position("short", 1)
    with pytest.raises(ValueError, match="offset"):
        Position("k3j9x2q1", -1)


def test_history_policies_refuse_what_they_cannot_keep() -> None:
    for size in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="size"):
            HistoryPolicy(size=size, ttl=1)  # type: ignore[arg-type]
    for ttl in (0, -1, "1", True):
        with pytest.raises(ValueError, match="ttl"):
            HistoryPolicy(size=1, ttl=ttl)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="HistoryPolicy"):
        Hub(history={"*": 10})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="HistoryPolicy"):
        Hub(history=10)  # type: ignore[arg-type]
    hub = Hub(history={"a*": HistoryPolicy(1, 1), "*": HistoryPolicy(2, 2)})
    assert hub.history("abc") == HistoryPolicy(1, 1) and hub.history("b") == HistoryPolicy(2, 2)


def test_joined_defaults() -> None:
    assert Joined("r") == Joined("r", None, None, None, 0)


async def test_presence_counts_an_identity_once_and_tells_the_room_who_came_and_went(client: ASGIClient) -> None:
    """Presence: who is in a room, each identity once however many tabs, with join and leave pushes."""
    async with client.connect("/history/lobby?identity=watcher") as watcher:
        assert (await frame(watcher, "presence.join"))["data"] == {"room": "lobby", "identity": "watcher"}
        async with client.connect("/history/lobby?identity=ann") as ann1:
            await frame(ann1, "joined")
            assert (await frame(watcher, "presence.join"))["data"] == {"room": "lobby", "identity": "ann"}
            async with client.connect("/history/lobby?identity=ann") as ann2, client.connect("/history/lobby") as anon:
                await frame(ann2, "joined")
                await frame(anon, "joined")
                await watcher.send_json({"type": "who", "id": "w1"})
                assert (await replied(watcher, "w1"))["data"] == {"present": ["ann", "watcher"]}
            await watcher.send_json({"type": "who", "id": "w2"})  # one of ann's tabs is still here
            assert (await replied(watcher, "w2"))["data"] == {"present": ["ann", "watcher"]}
        assert (await frame(watcher, "presence.leave"))["data"] == {"room": "lobby", "identity": "ann"}
        await watcher.send_json({"type": "who", "id": "w3"})
        reply = await replied(watcher, "w3")
        assert reply["data"] == {"present": ["watcher"]}


async def test_an_identity_must_be_a_short_string() -> None:
    from pyfly_ws.testing import ASGIClient as Client

    hub = memory_hub()
    async with Client(build(hub)) as client, client.connect("/history/h-id") as ws:
        await frame(ws, "joined")
        session = next(iter(hub._rooms["h-id"]))
        for bad in ("", "x" * 257, 42):
            with pytest.raises(ValueError, match="identity"):
                await hub.join(session, "other", identity=bad)  # type: ignore[arg-type]


async def test_the_memory_backend_lets_go_of_the_publications_of_idle_rooms() -> None:
    """Hostile or not, rooms that come and go leave no publications behind: only in-use rooms hold any."""
    from pyfly_ws.hub import MemoryBackend

    backend, policy = MemoryBackend(), HistoryPolicy(size=10, ttl=0.05)
    await backend.store("old", b"t" + bytes(24) + b"x", policy, -1)
    before = (await backend.read("old", 0, policy)).top
    await anyio.sleep(0.1)
    for i in range(100):
        await backend.store(f"room-{i}", b"t" + bytes(24) + b"x", policy, -1)
    assert len(backend._histories) == 100 and "old" in backend._idle and not backend._idle["old"].kept
    stored = await backend.read("old", 0, policy)
    assert stored.top == before and stored.entries == [] and not stored.complete  # a gap, same epoch
    assert "old" in backend._idle  # reading did not bring it back
