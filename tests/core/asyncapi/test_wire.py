"""What the server really sends, and what a client sends it, is what the document says, frame by frame.

Each frame of a real session (in process, through the asgi adapter) is
validated against the payload schema of the message the document names for
it: the document follows the wire format exactly, or these tests fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
import msgspec
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

import examples.confirm
from pyfly_ws import discover
from pyfly_ws.asyncapi import asyncapi_document
from pyfly_ws.testing import ASGIClient, TestSession
from tests.core.asyncapi import everything

pytestmark = pytest.mark.anyio

Check = Callable[[str, Any], None]


def checker(document: dict[str, Any]) -> Check:
    """``check(message, frame)``: fail unless ``frame`` is valid for ``components.messages[message]``."""
    registry: Registry[Any] = Registry().with_resource(
        "urn:document", Resource.from_contents(document, default_specification=DRAFT7)
    )

    def check(message: str, frame: Any) -> None:
        assert message in document["components"]["messages"], message
        schema = {"$ref": f"urn:document#/components/messages/{message}/payload"}
        jsonschema.Draft7Validator(schema, registry=registry).validate(frame)

    return check


async def exchange(ws: TestSession, check: Check, sent: str, frame: Any) -> None:
    """Send ``frame`` (checked as the client message ``sent``)."""
    check(sent, frame)
    await ws.send_text(json.dumps(frame))


async def received(ws: TestSession, check: Check, message: str) -> Any:
    frame = json.loads(await ws.receive_text())
    check(message, frame)
    return frame


async def test_every_frame_of_a_json_endpoint_is_as_documented() -> None:
    check = checker(asyncapi_document(everything.endpoints()))
    path = f"/api/boards/7/{everything.OWNER}"
    async with (
        ASGIClient(everything.build("asgi")) as client,
        client.connect(path, query={"token": everything.TOKEN}, headers={"x-client": "tester"}) as ws,
    ):
        await exchange(ws, check, "Board.point.add", {"type": "point.add", "id": "c1", "data": {"x": 2}})
        assert (await received(ws, check, "Board.board.changed"))["data"]["x"] == 2
        reply = await received(ws, check, "Board.point.add.reply")
        assert reply["data"] == {"point": {"x": 2, "y": 0, "label": None, "tags": []}, "at": "now"}
        with pytest.raises(jsonschema.ValidationError):
            check("Board.tree.plant.reply", reply)  # the check can fail: a reply is not any reply

        await exchange(ws, check, "Board.point.add", {"type": "point.add", "id": "c2", "data": {"x": 1}})
        assert (await received(ws, check, "error"))["code"] == "forbidden"
        await ws.send_text(json.dumps({"type": "point.add", "id": 3, "data": {"x": "two"}}))
        invalid = await received(ws, check, "error")
        assert invalid["code"] == "invalid_payload" and invalid["id"] == 3 and invalid["errors"]
        await ws.send_text("{not json")
        assert (await received(ws, check, "error"))["id"] is None

        tree = {"name": "oak", "children": [{"name": "acorn"}]}
        await exchange(ws, check, "Board.tree.plant", {"type": "tree.plant", "id": "c4", "data": tree})
        assert len((await received(ws, check, "Board.tree.plant.reply"))["data"]) == 2

        profile = {"name": "Ann", "address": {"city": "Oslo"}, "pair": [1, "x"]}
        await exchange(ws, check, "Board.profile.set", {"type": "profile.set", "id": "c5", "data": profile})
        await received(ws, check, "Board.profile.changed")
        await received(ws, check, "Board.profile.set.reply")

        await exchange(ws, check, "Board.whoami", {"type": "whoami", "id": "c6"})
        asked = await received(ws, check, "Board.ask.name")
        await exchange(ws, check, "Board.ask.name.reply", {"type": "reply", "id": asked["id"], "data": {"name": "Bo"}})
        assert (await received(ws, check, "Board.whoami.reply"))["data"]["name"] == "Bo"

        await exchange(
            ws, check, "Board.pet.add", {"type": "pet.add", "id": "c7", "data": {"type": "Dog", "name": "Rex"}}
        )
        await received(ws, check, "Board.pet.adopted")
        assert (await received(ws, check, "Board.pet.add.reply"))["data"] == "green"

        for sent, frame in [
            ("Board.note.add", {"type": "note.add", "id": "c8", "data": {"text": "hi"}}),
            ("Board.ping", {"type": "ping", "id": "c9"}),
            ("Board.raw.data", {"type": "raw.data", "id": "c10", "data": [1]}),
            ("Board.chat_odd_name", {"type": "chat/odd name", "id": "c11", "data": "hi"}),
            ("Board.values", {"type": "values", "id": "c12", "data": [1.5]}),
            ("Board.other", {"type": "anything.else", "id": "c13", "data": None}),
        ]:
            await exchange(ws, check, sent, frame)
            await received(ws, check, f"{sent}.reply")


async def test_every_frame_of_a_msgpack_endpoint_is_as_documented() -> None:
    check = checker(asyncapi_document(everything.endpoints()))
    encode, decode = msgspec.msgpack.encode, msgspec.msgpack.decode
    async with ASGIClient(everything.build("asgi")) as client, client.connect("/packed/1.5/bob") as ws:
        frame = {"t": "move", "i": 1, "d": {"x": 1, "y": 2}}
        check("Packed.move", frame)
        await ws.send_bytes(encode(frame))
        check("Packed.moved", decode(await ws.receive_bytes()))
        check("Packed.move.reply", decode(await ws.receive_bytes()))
        await ws.send_bytes(encode({"t": "nothing", "i": "x"}))
        failed = decode(await ws.receive_bytes())
        check("Packed.error", failed)
        assert failed["c"] == "unknown_type"
        with pytest.raises(jsonschema.ValidationError):
            check("error", failed)  # the default envelope's error is another message
        await ws.send_bytes(encode({"t": "blob", "i": 2, "d": b"abc"}))
        reply = decode(await ws.receive_bytes())
        assert reply["d"] == b"cba"
        check("Packed.blob.reply", {**reply, "d": reply["d"].decode()})  # bin: a binary string, as documented


async def test_a_server_request_and_its_answers_are_as_documented() -> None:
    check = checker(asyncapi_document(discover(examples.confirm.OrdersController, check=False)))
    place = "OrdersController.order.place"
    async with ASGIClient(examples.confirm.build("asgi")) as client, client.connect("/ws/orders") as ws:
        await exchange(ws, check, place, {"type": "order.place", "id": "c1", "data": {"item": "tea", "quantity": 2}})
        asked = await received(ws, check, "OrdersController.order.confirm")
        await exchange(
            ws, check, "OrdersController.order.confirm.reply", {"type": "reply", "id": asked["id"], "data": None}
        )
        assert (await received(ws, check, f"{place}.reply"))["data"]["status"] == "placed"

        await exchange(ws, check, place, {"type": "order.place", "id": "c2", "data": {"item": "cake"}})
        asked = await received(ws, check, "OrdersController.order.confirm")
        refusal = {"type": "error", "id": asked["id"], "code": "declined", "message": "too dear"}
        await exchange(ws, check, "error", refusal)  # the client's own error: an application error
        assert (await received(ws, check, f"{place}.reply"))["data"]["status"] == "declined"
