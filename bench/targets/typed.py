"""The typed echo: one message type whose data is validated as a payload class and sent back as the reply.

A client sends ``{"type": "echo", "id": 1, "data": {"text": "..."}}`` to ``/typed/KIND`` and gets
``{"type": "reply", "id": 1, "data": {"text": "..."}}``, where ``data`` was validated as ``Text`` of
one kind: a standard-library dataclass, a pydantic model or a msgspec Struct.

Here is the pyfly-ws side: one message-level controller per kind (``msg-pyfly-ADAPTER``). Its
counterparts, written by hand without the dispatcher, are in :mod:`bench.targets.typed_hand`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import msgspec
import pydantic

from pyfly_ws import create_app, message_mapping, rest_controller, websocket_mapping


@dataclass
class DataclassText:
    text: str


class PydanticText(pydantic.BaseModel):
    text: str


class MsgspecText(msgspec.Struct):
    text: str


def frame(text: str, id: int = 1) -> str:
    """The message a typed echo client sends."""
    return json.dumps({"type": "echo", "id": id, "data": {"text": text}}, separators=(",", ":"))


def reply(text: str, id: int = 1) -> str:
    """The reply each target sends to :func:`frame` (the same characters from every target)."""
    return json.dumps({"type": "reply", "id": id, "data": {"text": text}}, separators=(",", ":"))


@rest_controller
@websocket_mapping("/typed/dataclass")
class DataclassEcho:
    @message_mapping("echo")
    async def echo(self, data: DataclassText) -> DataclassText:
        return data


@rest_controller
@websocket_mapping("/typed/pydantic")
class PydanticEcho:
    @message_mapping("echo")
    async def echo(self, data: PydanticText) -> PydanticText:
        return data


@rest_controller
@websocket_mapping("/typed/msgspec")
class MsgspecEcho:
    @message_mapping("echo")
    async def echo(self, data: MsgspecText) -> MsgspecText:
        return data


def build_app(adapter: str) -> Any:
    """The three message-level controllers on ``adapter``."""
    return create_app([DataclassEcho, PydanticEcho, MsgspecEcho], adapter=adapter)
