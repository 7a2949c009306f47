"""Every example, on every adapter, behind a real uvicorn, driven by the websockets client."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from unittest.mock import ANY

import anyio
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from examples.chat import build as build_chat
from examples.chat_signin import SignIn
from examples.confirm import build as build_confirm
from pyfly_ws import Capabilities, create_app
from pyfly_ws.config import load_adapter
from pyfly_ws.hub import Position
from pyfly_ws_conformance.stalled import not_reading
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


async def recv_json(ws: ClientConnection, within: float = 5.0) -> object:
    """The next frame; a push from a room with history has its position checked for its form, then left out."""
    with anyio.fail_after(within):
        frame = json.loads(await ws.recv())
    if isinstance(frame, dict) and "position" in frame:
        Position.parse(frame.pop("position"))
    return frame


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


SIGN_IN_SECRET = "a secret of the tests, 32 characters or more"
SIGN_IN = SignIn(SIGN_IN_SECRET)
OTHER = SignIn("another secret, also 32 characters or more")
EXPIRED = SignIn(SIGN_IN_SECRET, ttl=0.001)


@pytest.fixture
def chat(adapter_name: str) -> Iterator[str]:
    with serve(build_chat(adapter_name, sign_in=SIGN_IN)) as url:
        yield url


def offered(name: str, sign_in: SignIn = SIGN_IN) -> list[Subprotocol]:
    """What the chat's page offers: its subprotocol, and a token for ``name`` from ``sign_in``."""
    return [Subprotocol("chat.v1"), Subprotocol("bearer." + sign_in.issue(name)["token"])]


def member(chat: str, room: str, name: str, max_size: int | None = 2**20) -> connect:
    """A WebSocket to ``room`` of ``chat``, signed in as ``name``."""
    return connect(f"{chat}/ws/chat/{room}", subprotocols=offered(name), max_size=max_size)


def push(kind: str, **data: object) -> dict[str, object]:
    return {"type": kind, "data": data}


def say(text: str, mid: str | None = None) -> str:
    frame: dict[str, object] = {"type": "chat.send", "data": {"text": text}}
    return json.dumps(frame if mid is None else {**frame, "id": mid})


async def test_chat_serves_its_page(chat: str) -> None:
    async with httpx.AsyncClient() as http:
        page = await http.get(chat.replace("ws://", "http://") + "/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>pyfly-ws chat</title>" in page.text and "/ws/chat/" in page.text
    assert '"chat.send"' in page.text  # the page speaks the message envelope


async def test_chat_signs_in_at_login_and_renews_at_token(chat: str) -> None:
    async with httpx.AsyncClient(base_url=chat.replace("ws://", "http://")) as http:
        signed = (await http.post("/login", json={"name": "  ann  "})).json()
        assert signed["name"] == "ann" and signed["expires_at"] > time.time() + 800  # 15 minutes by default
        principal = await SIGN_IN.verify(signed["token"])
        assert principal.identity.startswith("m-") and principal.claims["name"] == "ann"
        renewed = await http.post("/token", headers={"authorization": f"Bearer {signed['token']}"})
        assert renewed.status_code == 200 and renewed.headers["cache-control"] == "no-store"
        assert (await SIGN_IN.verify(renewed.json()["token"])).identity == principal.identity  # the same member
        refused = [
            (await http.post("/login", json={"name": " "}), 400),
            (await http.post("/login", json={"name": 7}), 400),
            (await http.post("/login", content=b"{not json"), 400),
            (await http.post("/login", json={"name": "x" * 2000}), 413),
            (await http.get("/login"), 405),
            (await http.post("/token"), 401),
            (await http.post("/token", headers={"authorization": "Bearer not.a.token"}), 401),
            (await http.post("/token", headers={"authorization": "Bearer " + OTHER.issue("eve")["token"]}), 401),
        ]
    for answer, status in refused:
        assert answer.status_code == status, answer.request
        assert answer.json()["error"], answer.request


async def test_chat_accepts_a_token_offered_as_a_subprotocol_and_refuses_any_other(
    chat: str, adapter_name: str
) -> None:
    async with member(chat, "a", "ann") as ann:
        assert ann.subprotocol == "chat.v1"  # never the token
        assert await recv_json(ann) == push("chat.welcome", name="ann", room="a", members=1, position=ANY)
    denied = getattr(load_adapter(adapter_name), "capabilities", Capabilities()).http_denial
    for offer, status in [
        (None, 400),  # no chat.v1
        (["chat.v1"], 401),  # no token
        (["chat.v1", "bearer.not-a-token"], 401),
        (["chat.v1", "bearer." + OTHER.issue("eve")["token"]], 401),  # signed with another secret
        (["chat.v1", "bearer." + EXPIRED.issue("old")["token"]], 401),
    ]:
        with pytest.raises(InvalidStatus) as info:
            async with connect(
                chat + "/ws/chat/a", subprotocols=None if offer is None else list(map(Subprotocol, offer))
            ):
                pass
        assert info.value.response.status_code == (status if denied else 403), offer


async def test_chat_a_member_renews_its_token_over_the_live_socket_or_is_closed_at_expiry(adapter_name: str) -> None:
    quick = SignIn(SIGN_IN_SECRET, ttl=2)  # warned halfway, about a second in
    with serve(build_chat(adapter_name, sign_in=quick)) as chat:
        chat_v1, bearer = offered("ann", quick)
        token = bearer.removeprefix("bearer.")
        async with connect(chat + "/ws/chat/a", subprotocols=[chat_v1, bearer]) as ann:
            assert (await recv_json(ann))["type"] == "chat.welcome"  # type: ignore[index]
            expiring = await recv_json(ann, within=5)
            assert isinstance(expiring, dict) and expiring["type"] == "auth.expiring"
            fresh = await quick.renew(token)
            await ann.send(json.dumps({"type": "auth.refresh", "id": "r1", "data": {"token": fresh["token"]}}))
            reply = await recv_json(ann)
            assert isinstance(reply, dict) and (reply["type"], reply["id"]) == ("reply", "r1")
            assert reply["data"]["expires_at"] == fresh["expires_at"]
            await anyio.sleep(max(0.0, expiring["data"]["expires_at"] - time.time()) + 0.3)  # past the first token
            await ann.send(say("still here", "c1"))
            frames = {frame["type"]: frame for frame in await until_closed(ann)}  # no second refresh
            assert sorted(frames) == ["auth.expiring", "reply"]  # in either order: the warning can come first
            assert frames["reply"]["id"] == "c1"
            assert frames["auth.expiring"]["data"]["expires_at"] == fresh["expires_at"]
            assert (ann.close_code, ann.close_reason) == (3000, "token expired")


async def until_closed(ws: ClientConnection) -> list[dict[str, Any]]:
    """Every frame ``ws`` gets until the server closes it (each within 5 s)."""
    frames: list[dict[str, Any]] = []
    try:
        while True:
            frame = await recv_json(ws, within=5)
            assert isinstance(frame, dict)
            frames.append(frame)
    except ConnectionClosed:
        return frames


async def test_chat_rooms_join_say_and_leave(chat: str) -> None:
    async with member(chat, "a", "ann") as ann, member(chat, "b", "cid") as cid:
        assert await recv_json(ann) == push("chat.welcome", name="ann", room="a", members=1, position=ANY)
        assert await recv_json(cid) == push("chat.welcome", name="cid", room="b", members=1, position=ANY)
        async with member(chat, "a", "bob") as bob:
            assert await recv_json(bob) == push("chat.welcome", name="bob", room="a", members=2, position=ANY)
            assert await recv_json(ann) == push("room.joined", name="bob", members=2)
            await ann.send(json.dumps({"type": "chat.here"}))  # no id: no reply
            await ann.send(say("hello", "c1"))
            assert await recv_json(bob) == push("room.here", name="ann")
            receipt = await recv_json(ann)  # the sender gets the receipt, not its own message
            message = await recv_json(bob)
            assert isinstance(receipt, dict) and isinstance(message, dict)
            assert receipt["type"] == "reply" and receipt["id"] == "c1"
            assert message == push("chat.message", name="ann", text="hello", **receipt["data"])
            assert isinstance(receipt["data"]["id"], str) and receipt["data"]["at"].endswith("+00:00")
        left = await recv_json(ann)
        assert isinstance(left, dict) and left["type"] == "room.left" and left["data"]["name"] == "bob"
        await ann.send(say("anyone?"))  # no id: published, and no reply
        await ann.send(say("  ", "c2"))
        error = await recv_json(ann)
        assert error == {
            "type": "error",
            "id": "c2",
            "code": "invalid_payload",
            "message": "invalid data for 'chat.send'",
            "errors": [{"location": [], "message": "the text is blank", "kind": "value_error"}],
        }
        await ann.send(say("x" * 2001, "c3"))
        error = await recv_json(ann)
        assert isinstance(error, dict) and (error["id"], error["code"]) == ("c3", "invalid_payload")
        await ann.send(json.dumps({"type": "chat.send", "id": "c4", "data": {}}))
        error = await recv_json(ann)
        assert isinstance(error, dict) and error["errors"] == [
            {"location": ["text"], "message": "Field required", "kind": "missing"}
        ]
        with pytest.raises(TimeoutError):
            await recv_json(cid, within=0.3)  # room b heard none of it


async def test_chat_room_left_counts_the_members_still_there(chat: str) -> None:
    async with member(chat, "a", "ann") as ann:
        await recv_json(ann)  # welcome
        async with member(chat, "a", "bob") as bob:
            await recv_json(bob)  # welcome
            assert await recv_json(ann) == push("room.joined", name="bob", members=2)
        assert await recv_json(ann) == push("room.left", name="bob", members=1)


async def test_chat_broadcast_survives_slow_and_dead_clients(chat: str) -> None:
    # "slow" never reads after joining; "dead" vanishes without a close frame.
    # Neither may stall or break delivery to bob, nor ann's receipts.
    count, size = 200, 1500  # the chat takes up to 2,000 characters in a message
    async with (
        member(chat, "r", "ann", max_size=None) as ann,
        member(chat, "r", "bob", max_size=None) as bob,
    ):
        dead = await member(chat, "r", "dead")
        async with not_reading(chat + "/ws/chat/r", headers={"sec-websocket-protocol": ", ".join(offered("slow"))}):
            for ws in (ann, bob, dead):
                while (await recv_json(ws)) != push("room.joined", name="slow", members=4):
                    pass
            dead.transport.abort()  # gone without a close frame
            payload = "x" * size
            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:

                    async def expect_messages(ws: ClientConnection) -> None:
                        i = 0
                        while i < count:
                            got = await recv_json(ws)
                            if isinstance(got, dict) and got["type"] == "chat.message":
                                assert (got["data"]["name"], got["data"]["text"]) == ("ann", f"{i} {payload}")
                                i += 1

                    async def expect_receipts(ws: ClientConnection) -> None:
                        i = 0
                        while i < count:
                            got = await recv_json(ws)
                            if isinstance(got, dict) and got["type"] == "reply":
                                assert got["id"] == f"c{i}"
                                i += 1

                    tg.start_soon(expect_messages, bob)
                    tg.start_soon(expect_receipts, ann)
                    for i in range(count):
                        await ann.send(say(f"{i} {payload}", f"c{i}"))


@pytest.fixture
def orders(adapter_name: str) -> Iterator[str]:
    with serve(build_confirm(adapter_name, confirm_within=0.5)) as url:
        yield url + "/ws/orders"


def place(mid: str, item: str, quantity: int = 1) -> str:
    return json.dumps({"type": "order.place", "id": mid, "data": {"item": item, "quantity": quantity}})


async def test_confirm_an_order_confirmed_then_declined(orders: str) -> None:
    async with connect(orders) as ws:
        await ws.send(place("c1", "tea", 2))
        ask = await recv_json(ws)
        assert ask == {"type": "order.confirm", "id": "s1", "data": {"item": "tea", "quantity": 2, "total": 700}}
        await ws.send(json.dumps({"type": "reply", "id": "s1", "data": None}))
        placed = {"order": 1, "status": "placed", "total": 700, "reason": None}
        assert await recv_json(ws) == {"type": "reply", "id": "c1", "data": placed}

        await ws.send(place("c2", "cake"))
        ask = await recv_json(ws)
        assert isinstance(ask, dict) and (ask["type"], ask["id"]) == ("order.confirm", "s2")
        await ws.send(json.dumps({"type": "error", "id": "s2", "code": "declined", "message": "too dear"}))
        declined = {"order": None, "status": "declined", "total": 500, "reason": "too dear"}
        assert await recv_json(ws) == {"type": "reply", "id": "c2", "data": declined}

        await ws.send(place("c3", "coffee"))
        ask = await recv_json(ws)
        await ws.send(json.dumps({"type": "reply", "id": "s3"}))
        placed = {"order": 2, "status": "placed", "total": 420, "reason": None}
        assert await recv_json(ws) == {"type": "reply", "id": "c3", "data": placed}  # numbers only placed orders


async def test_confirm_an_order_left_unanswered_times_out_and_the_session_goes_on(orders: str) -> None:
    async with connect(orders) as ws:
        await ws.send(place("c1", "tea"))
        ask = await recv_json(ws)
        assert isinstance(ask, dict) and ask["type"] == "order.confirm"
        started = anyio.current_time()
        error = await recv_json(ws, within=5)
        waited = anyio.current_time() - started
        assert error == {
            "type": "error",
            "id": "c1",
            "code": "not_confirmed",
            "message": "the order was not confirmed within 0.5 s",
        }
        assert 0.3 < waited < 4, waited
        await ws.send(json.dumps({"type": "reply", "id": ask["id"]}))  # too late: ignored
        await ws.send(place("c2", "beer"))
        error = await recv_json(ws)
        assert isinstance(error, dict) and (error["id"], error["code"]) == ("c2", "invalid_payload")
        await ws.send(place("c3", "cake", 3))
        ask = await recv_json(ws)
        assert isinstance(ask, dict) and ask["data"] == {"item": "cake", "quantity": 3, "total": 1500}
        await ws.send(json.dumps({"type": "reply", "id": ask["id"]}))
        placed = {"order": 1, "status": "placed", "total": 1500, "reason": None}
        assert await recv_json(ws) == {"type": "reply", "id": "c3", "data": placed}
