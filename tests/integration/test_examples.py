"""Every example, on every adapter, behind a real uvicorn, driven by the websockets client."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anyio
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from pyfly_ws import create_app
from tests.support.server import serve

pytestmark = pytest.mark.anyio


@pytest.fixture
def base(request: pytest.FixtureRequest, adapter_name: str) -> Iterator[str]:
    with serve(create_app(request.param, adapter_name)) as url:
        yield url


@pytest.mark.parametrize("base", ["examples.echo"], indirect=True)
async def test_echo(base: str) -> None:
    big = "ж" * (512 * 1024)  # 1 MiB of UTF-8
    async with connect(base + "/ws/echo", max_size=None) as ws:
        for message in ("hello", "", "héllo ☃", b"\x00\xff", b"", big):
            await ws.send(message)
            assert await ws.recv() == message


@pytest.mark.parametrize("base", ["examples.feed"], indirect=True)
async def test_feed_json_text_binary_and_invalid(base: str) -> None:
    async with connect(base + "/ws/feed") as ws:
        await ws.send(json.dumps({"subscribe": "prices"}))
        assert json.loads(await ws.recv()) == {"seq": 1, "received": {"subscribe": "prices"}}
        await ws.send("[1, 2]")
        assert json.loads(await ws.recv()) == {"seq": 2, "received": [1, 2]}
    async with connect(base + "/ws/feed?mode=binary") as ws:
        await ws.send(json.dumps({"é": None}).encode())
        reply = await ws.recv()
        assert isinstance(reply, bytes)
        assert json.loads(reply) == {"seq": 1, "received": {"é": None}}
    async with connect(base + "/ws/feed") as ws:
        await ws.send("not json")
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 1007


async def recv_json(ws: ClientConnection) -> object:
    with anyio.fail_after(5):
        return json.loads(await ws.recv())


@pytest.mark.parametrize("base", ["examples.rooms"], indirect=True)
async def test_rooms_are_separate_and_member_ids_are_ints(base: str) -> None:
    async with (
        connect(base + "/ws/rooms/lobby/members/7") as ann,
        connect(base + "/ws/rooms/lobby") as bob,
        connect(base + "/ws/rooms/kitchen/members/8") as cook,
    ):
        assert await recv_json(ann) == {"room": "lobby", "joined": 7, "members": 1}
        assert await recv_json(ann) == {"room": "lobby", "joined": None, "members": 2}
        assert await recv_json(bob) == {"room": "lobby", "joined": None, "members": 2}
        assert await recv_json(cook) == {"room": "kitchen", "joined": 8, "members": 1}
        await ann.send("hi lobby")
        await cook.send("hi kitchen")
        for ws in (ann, bob):
            assert await recv_json(ws) == {"room": "lobby", "from": 7, "text": "hi lobby"}
        assert await recv_json(cook) == {"room": "kitchen", "from": 8, "text": "hi kitchen"}
    with pytest.raises(InvalidStatus) as info:
        async with connect(base + "/ws/rooms/lobby/members/seven"):
            pass
    assert info.value.response.status_code == 403


@pytest.mark.parametrize("base", ["examples.chat"], indirect=True)
async def test_chat_broadcast_survives_slow_and_dead_clients(base: str) -> None:
    # "slow" never reads after the first message; "dead" vanishes without a close frame.
    # Neither may stall or break delivery to ann and bob.
    count, size = 200, 16 * 1024
    async with (
        connect(base + "/ws/chat?name=ann", max_size=None) as ann,
        connect(base + "/ws/chat?name=bob", max_size=None) as bob,
        connect(base + "/ws/chat?name=slow", max_size=None, max_queue=1, close_timeout=0.5) as slow,
    ):
        dead = await connect(base + "/ws/chat?name=dead")
        await ann.send("ready?")
        for ws in (ann, bob, slow, dead):
            assert await ws.recv() == "ann: ready?"
        dead.transport.abort()  # gone without a close frame
        payload = "x" * size
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:

                async def expect_all(ws: ClientConnection) -> None:
                    for i in range(count):
                        assert await ws.recv() == f"ann: {i} {payload}"

                tg.start_soon(expect_all, ann)
                tg.start_soon(expect_all, bob)
                for i in range(count):
                    await ann.send(f"{i} {payload}")
