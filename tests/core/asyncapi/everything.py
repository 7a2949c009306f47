"""Controllers using every feature the AsyncAPI document describes, each once at least (not a test module).

Two message-level endpoints (one in JSON with the default envelope, one in
MessagePack with an envelope of its own) with dataclass, pydantic and msgspec
payloads, replies, pushes and a server request; guards that declare what
they read of the handshake; path parameters of every type; two method
endpoints.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
import pydantic
import pydantic.dataclasses

from pyfly_ws import (
    Envelope,
    HandshakeView,
    Message,
    MessagePackCodec,
    Reject,
    WebSocketSession,
    create_app,
    discover,
    emits,
    handshake_schema,
    message_mapping,
    request_mapping,
    rest_controller,
    websocket_mapping,
    websocket_policy,
)
from pyfly_ws.adapter import ASGIApp
from pyfly_ws.lifecycle.registry import Endpoint

OWNER = uuid.UUID("12345678-1234-5678-1234-567812345678")
TOKEN = "secret"


@dataclass
class Point:
    """A point on the board."""

    x: int
    y: int = 0
    label: str | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class Tree:
    name: str
    children: list[Tree] = field(default_factory=list)


@dataclass
class Stamped:
    """A point as placed: ``at`` is set by the server."""

    point: Point
    at: str = field(init=False, default="now")


class Color(enum.Enum):
    """The colour a pet is given."""

    RED = "red"
    GREEN = "green"


class Address(pydantic.BaseModel):
    city: str


class Profile(pydantic.BaseModel):
    """A user's profile."""

    name: str = pydantic.Field(min_length=1)
    age: int | None = None
    address: Address | None = None
    kind: Literal["person", "robot"] = "person"
    pair: tuple[int, str] | None = None


@pydantic.dataclasses.dataclass
class Note:
    text: str


class Cat(msgspec.Struct, tag=True):
    lives: int = 9


class Dog(msgspec.Struct, tag=True):
    name: str


class Move(msgspec.Struct):
    """A move on a packed board."""

    x: int
    y: int


@handshake_schema(headers={"Authorization": "`Bearer <token>`: who is calling (optional)."})
def app_guard(view: HandshakeView) -> None:
    """Every endpoint: reads the Authorization header, refuses nothing."""


@handshake_schema(
    headers={"X-Client": {"type": "string", "pattern": "^[a-z]+$", "description": "The client's name."}},
    required=["X-Client"],
)
def client_guard(view: HandshakeView) -> None:
    if not view.headers.get("x-client", "").isalpha():
        raise Reject(403, "name the client")


@handshake_schema(query={"token": "The access token."}, required=["token"])
def token_guard(view: HandshakeView) -> None:
    if view.query_params.get("token") != TOKEN:
        raise Reject(403, "bad token")


def even_only(session: WebSocketSession, message: Message) -> bool:
    return bool(message.data.x % 2 == 0)


@rest_controller
@request_mapping("/api")
@websocket_policy(guards=[client_guard])
@websocket_mapping("/boards/{board:int}/{owner:uuid}", guards=[token_guard])
@handshake_schema(headers={"x-trace": "A trace id, logged."})
@emits("board.changed", Point, description="To the board: a point was added.")
@emits("pet.adopted", Cat | Dog)
@emits("ask.name", None, reply=Profile, description="Asks the client who it is.")
@emits("ping", Any, description="A ping from the server (the client sends its own too).")
class Board:
    """The board: points, trees, profiles and pets."""

    @message_mapping("point.add", guards=[even_only])
    @emits("board.changed", Point)
    async def add(self, session: WebSocketSession, point: Point) -> Stamped:
        """Add a point.

        Only points with an even x are accepted.
        """
        await session.emit("board.changed", point)
        return Stamped(point)

    @message_mapping("tree.plant")
    def plant(self, tree: Tree) -> list[Tree]:
        return [tree, *tree.children]

    @message_mapping("profile.set")
    @emits("profile.changed", Profile, description="To the client: its profile as stored.")
    async def profile(self, session: WebSocketSession, profile: Profile) -> Profile:
        await session.emit("profile.changed", profile)
        return profile

    @message_mapping("whoami")
    async def whoami(self, session: WebSocketSession) -> Profile:
        data = await session.request("ask.name", None, timeout=5)
        return Profile.model_validate(data)

    @message_mapping("pet.add")
    async def pet(self, session: WebSocketSession, pet: Cat | Dog) -> Color:
        await session.emit("pet.adopted", pet)
        return Color.GREEN

    @message_mapping("note.add")
    def note(self, note: Note) -> Note:
        return note

    @message_mapping("ping")
    def ping(self) -> None:
        return None

    @message_mapping("raw.data")
    def raw_data(self, message: Message):  # type: ignore[no-untyped-def]  # not annotated: the reply is not described
        return {"got": message.data}

    @message_mapping("chat/odd name")
    def odd(self, text: str) -> str:
        return text.upper()

    @message_mapping("values")
    def values(self, data: dict[str, int] | list[float] | Literal[1, "x"] | None) -> tuple[int, ...]:
        return (1, 2)

    async def on_message(self, session: WebSocketSession, message: Message) -> Any:
        return {"echo": message.type}

    @websocket_mapping("/files/{rest:path}")
    @handshake_schema(query={"v": {"enum": ["1", "2"], "description": "The protocol version."}})
    async def files(self, session: WebSocketSession) -> None:
        """Streams files: the client names them, the server sends their bytes."""
        await session.accept()
        await session.close()


@rest_controller
@websocket_mapping(
    "/packed/{ratio:float}/{name}",
    codec=MessagePackCodec(),
    envelope=Envelope(type="t", id="i", data="d", code="c", message="m", errors="e"),
)
@emits("moved", Move, description="To the board: a move was made.")
class Packed:
    @message_mapping("move")
    async def move(self, session: WebSocketSession, move: Move) -> Move:
        await session.emit("moved", move)
        return move

    @message_mapping("blob")
    def blob(self, data: bytes) -> bytes:
        return data[::-1]


@rest_controller
class Plain:
    @websocket_mapping("/plain")
    async def plain(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.close()


CONTROLLERS = [Board, Packed, Plain]


def endpoints() -> list[Endpoint]:
    """The endpoints, with the application's guard."""
    return discover(CONTROLLERS, guards=[app_guard])


def build(adapter: str | None = None) -> ASGIApp:
    app: ASGIApp = create_app(CONTROLLERS, adapter, guards=[app_guard])
    return app
