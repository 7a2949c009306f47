"""Every document the suite generates is a valid AsyncAPI 3.0.0 document, by the official JSON Schema, offline.

The chat example's document is also compared with ``golden/chat.json``;
rewrite it on purpose with ``PYFLY_WS_UPDATE_ASYNCAPI=1 pytest tests/core/asyncapi/test_validation.py``.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from referencing.exceptions import Unresolvable

from pyfly_ws import discover
from pyfly_ws.asyncapi import AsyncAPI, asyncapi_document, document_json
from tests.core.asyncapi import everything, validate

GOLDEN = Path(__file__).with_name("golden")
UPDATE = "PYFLY_WS_UPDATE_ASYNCAPI"
CHAT_OPTIONS = AsyncAPI(
    title="pyfly-ws chat",
    version="1.0.0",
    description="Chat rooms over WebSocket (examples/chat.py).",
    servers={"local": "ws://127.0.0.1:8000"},
)
EXAMPLES = ["examples.chat", "examples.confirm", "examples.echo", "examples.feed", "examples.rooms", "examples"]
OPTIONS = AsyncAPI(
    title="everything",
    version="2.1.0",
    description="Every feature.",
    servers={"production": "wss://ws.example.com/realtime", "local": "ws://127.0.0.1:8000"},
)


def everything_document() -> dict[str, Any]:
    return asyncapi_document(everything.endpoints(), OPTIONS)


def test_the_pinned_schema_is_the_published_one() -> None:
    digest = hashlib.sha256(validate.SCHEMA.read_bytes()).hexdigest()
    assert digest == "d4571a420e6ffb7fcc7066c95a6db1202f299a3c51daa103d0706bf30f95e626"
    notes = (validate.SCHEMA.parent / "README.md").read_text(encoding="utf-8")
    assert "@asyncapi/specs" in notes and "6.11.1" in notes and "Apache License 2.0" in notes
    assert "Apache License" in (validate.SCHEMA.parent / "LICENSE").read_text(encoding="utf-8")


@pytest.mark.parametrize("module", EXAMPLES)
def test_every_example_document_is_valid(module: str) -> None:
    document = asyncapi_document(discover(importlib.import_module(module), check=False))
    assert document["channels"]
    validate.check(document)


def test_the_document_of_every_feature_is_valid() -> None:
    document = everything_document()
    validate.check(document)
    assert len(document["channels"]) == 4 and len(document["operations"]) == 23


def test_the_chat_document_is_the_golden_one() -> None:
    import examples.chat

    text = document_json(asyncapi_document(discover(examples.chat.ChatController, check=False), CHAT_OPTIONS))
    golden = GOLDEN / "chat.json"
    if os.environ.get(UPDATE):
        golden.write_text(text, encoding="utf-8")
    validate.check(json.loads(golden.read_text(encoding="utf-8")))
    assert text == golden.read_text(encoding="utf-8"), (
        f"the chat example's AsyncAPI document changed; if on purpose, rewrite it with {UPDATE}=1"
    )


def test_validation_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the validation tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refused)
    monkeypatch.setattr(socket, "create_connection", refused)
    fresh = validate.validator.__wrapped__()  # built again, with the network gone
    assert list(fresh.iter_errors(everything_document())) == []
    # and a reference the file cannot resolve is an error at once, not a download
    with pytest.raises(Unresolvable):
        fresh.evolve(schema={"$ref": "https://example.com/elsewhere.json"}).validate({})
    assert validate.fetched == ["https://example.com/elsewhere.json"]
    validate.fetched.clear()


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = document
        for part in parents:
            node = node[part]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value

    return change


BROKEN = {
    "no version": _set("info/version", KeyError),
    "an AsyncAPI 2 action": _set("operations/Board.receive.ping/action", "publish"),
    "an unknown channel field": _set("channels/Board/topic", "board"),
    "a payload that is no schema": _set("components/messages/Board.ping/payload/type", "strnig"),
    "a correlation id that is no runtime expression": _set(
        "components/messages/error/correlationId/location", "payload.id"
    ),
    "a websocket binding by POST and PUT": _set("channels/Board/bindings/ws/method", "PUT"),
    "a server without its protocol": _set("servers/local/protocol", KeyError),
    "an operation on no channel": _set("operations/Board.send.ping/channel", KeyError),
    "a reply that is no reply object": _set("operations/Board.receive.ping/reply/messages", {"$ref": "#/x"}),
}


@pytest.mark.parametrize("change", BROKEN.values(), ids=BROKEN.keys())
def test_the_schema_finds_a_broken_document(change: Callable[[dict[str, Any]], None]) -> None:
    document = everything_document()
    assert validate.schema_errors(document) == []
    broken = copy.deepcopy(document)
    change(broken)
    assert validate.schema_errors(broken)
    with pytest.raises(AssertionError):
        validate.check(broken)


def test_the_rules_find_what_the_schema_cannot() -> None:
    document = everything_document()
    assert validate.rule_errors(document) == []
    dangling = copy.deepcopy(document)
    dangling["channels"]["Board"]["messages"]["ping"] = {"$ref": "#/components/messages/nowhere"}
    assert validate.schema_errors(dangling) == []  # valid by the schema, and wrong
    assert validate.rule_errors(dangling) == [
        "#/channels/Board/messages/ping: $ref #/components/messages/nowhere points to nothing"
    ]
    elsewhere = copy.deepcopy(document)
    elsewhere["operations"]["Board.receive.ping"]["messages"] = [{"$ref": "#/channels/Packed/messages/move"}]
    assert validate.schema_errors(elsewhere) == []
    assert validate.rule_errors(elsewhere) == [
        "operation Board.receive.ping: message #/channels/Packed/messages/move is not one of #/channels/Board's"
    ]
