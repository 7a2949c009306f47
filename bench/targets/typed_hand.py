"""The typed echo written by hand: the same parsing, dispatch and validation, without pyfly-ws's dispatcher.

Each endpoint reads text messages, parses them with :mod:`json`, looks the type up in a dict of
handlers, validates the data with the same library the dispatcher uses for that kind (for the
dataclass, ``Text(**data)`` and a type check; for pydantic, a ``TypeAdapter`` prepared once; for
msgspec, ``msgspec.convert``), awaits the handler and sends the reply as compact JSON. A
message it cannot handle gets an error frame, as the dispatcher's would.

Two targets: ``msg-hand-asgi`` on pyfly-ws's own method endpoints (``@websocket_mapping`` on a
method; the framework of the ``asgi`` adapter) and ``msg-hand-starlette`` on a Starlette
``WebSocketRoute``. Both run :func:`converse`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import pydantic

from pyfly_ws import WebSocketSession, create_app, rest_controller, websocket_mapping

from .typed import DataclassText, MsgspecText, PydanticText

Route = tuple[Callable[[Any], Awaitable[Any]], Callable[[Any], Any], Callable[[Any], Any]]
"""A message type's handler, the validator of its data and the dump of its return value."""

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _dataclass_text(data: Any) -> DataclassText:
    try:
        value = DataclassText(**data)
    except TypeError:
        raise ValueError("data should be an object with one field, text") from None
    if not isinstance(value.text, str):
        raise ValueError("text should be a string")
    return value


_pydantic_text = pydantic.TypeAdapter(PydanticText)


def _msgspec_text(data: Any) -> MsgspecText:
    return msgspec.convert(data, type=MsgspecText)


async def echo(data: Any) -> Any:
    return data


ROUTES: dict[str, dict[str, Route]] = {
    "dataclass": {"echo": (echo, _dataclass_text, lambda value: {"text": value.text})},
    "pydantic": {
        "echo": (
            echo,
            _pydantic_text.validate_python,
            lambda value: _pydantic_text.dump_python(value, mode="json"),
        )
    },
    "msgspec": {"echo": (echo, _msgspec_text, msgspec.to_builtins)},
}
"""Per payload kind: message type -> route."""


def _error(mid: Any, code: str, message: str) -> str:
    return _encode({"type": "error", "id": mid, "code": code, "message": message})


async def converse(
    messages: AsyncIterator[str], send: Callable[[str], Awaitable[None]], routes: dict[str, Route]
) -> None:
    """Answer every message until the client leaves."""
    async for text in messages:
        try:
            doc = json.loads(text)
        except ValueError:
            await send(_error(None, "invalid_frame", "invalid JSON"))
            continue
        if type(doc) is not dict:
            await send(_error(None, "invalid_envelope", "a message is an object"))
            continue
        mid = doc.get("id")
        route = routes.get(doc.get("type"))  # type: ignore[arg-type]
        if route is None:
            await send(_error(mid, "unknown_type", "no handler for this message type"))
            continue
        handler, validate, dump = route
        try:
            payload = validate(doc.get("data"))
        except ValueError as exc:  # pydantic's and msgspec's ValidationError are ValueErrors
            await send(_error(mid, "invalid_payload", str(exc)))
            continue
        result = await handler(payload)
        if mid is not None:
            await send(_encode({"type": "reply", "id": mid, "data": dump(result)}))


@rest_controller
class HandTyped:
    """The typed echo on pyfly-ws method endpoints: the session's text messages, parsed and dispatched here."""

    @websocket_mapping("/typed/dataclass")
    async def dataclass_echo(self, session: WebSocketSession) -> None:
        await session.accept()
        await converse(session.iter_text(), session.send_text, ROUTES["dataclass"])

    @websocket_mapping("/typed/pydantic")
    async def pydantic_echo(self, session: WebSocketSession) -> None:
        await session.accept()
        await converse(session.iter_text(), session.send_text, ROUTES["pydantic"])

    @websocket_mapping("/typed/msgspec")
    async def msgspec_echo(self, session: WebSocketSession) -> None:
        await session.accept()
        await converse(session.iter_text(), session.send_text, ROUTES["msgspec"])


def build_asgi() -> Any:
    """``msg-hand-asgi``: :class:`HandTyped` on the ``asgi`` adapter."""
    return create_app([HandTyped], adapter="asgi")


def build_starlette() -> Any:
    """``msg-hand-starlette``: the same loop on Starlette ``WebSocketRoute`` endpoints, as Starlette writes them."""
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    def endpoint(kind: str) -> Callable[[WebSocket], Awaitable[None]]:
        routes = ROUTES[kind]

        async def serve(websocket: WebSocket) -> None:
            await websocket.accept()
            await converse(websocket.iter_text(), websocket.send_text, routes)

        return serve

    return Starlette(routes=[WebSocketRoute(f"/typed/{kind}", endpoint(kind)) for kind in ROUTES])
