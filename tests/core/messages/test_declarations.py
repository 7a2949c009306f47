"""Declaring a message-level endpoint: what is accepted, and the error for each mistake, at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from pyfly_ws import (
    ConfigurationError,
    Envelope,
    Message,
    MessageOptions,
    WebSocketSession,
    create_app,
    discover,
    message_mapping,
    request_mapping,
    rest_controller,
    websocket_mapping,
)


@dataclass
class Point:
    x: int
    y: int


@rest_controller
@request_mapping("/api")
@websocket_mapping("/points/{board}", concurrency=2, backlog=4, max_protocol_errors=3)
class Points:
    @message_mapping("point.add")
    async def add(self, session: WebSocketSession, point: Point, message: Message) -> int:
        return point.x + point.y

    @message_mapping("ping")
    def ping(self) -> None: ...

    @websocket_mapping("/raw")
    async def raw(self, session: WebSocketSession) -> None: ...


def test_a_class_and_a_method_endpoint_on_one_controller() -> None:
    endpoints = {e.path: e for e in discover(Points)}
    assert set(endpoints) == {"/api/points/{board}", "/api/raw"}
    gateway, raw = endpoints["/api/points/{board}"], endpoints["/api/raw"]
    assert raw.dispatcher is None and raw.qualname == "Points.raw"
    assert gateway.dispatcher is not None and gateway.qualname == "Points"
    dispatcher: Any = gateway.dispatcher
    assert sorted(dispatcher.routes) == ["ping", "point.add"]
    add = dispatcher.routes["point.add"]
    assert add.layout == ("session", "payload", "message") and add.is_async and add.payload_type is Point
    assert add.reply_type is int and dispatcher.routes["ping"].layout == () and not dispatcher.routes["ping"].is_async
    assert dispatcher.options == MessageOptions(concurrency=2, backlog=4, max_protocol_errors=3)


def test_options_of_a_message_level_endpoint_are_refused_on_a_method() -> None:
    with pytest.raises(TypeError, match="concurrency: options of a message-level endpoint, given to a method"):

        class Wrong:
            @websocket_mapping("/x", concurrency=2)
            async def raw(self, session: WebSocketSession) -> None: ...


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"concurrency": 0}, "concurrency must be an integer >= 1, got 0"),
        ({"backlog": True}, "backlog must be an integer >= 1, got True"),
        ({"max_protocol_errors": -1}, "max_protocol_errors must be an integer >= 1, got -1"),
        ({"codec": "json"}, "codec must have binary, name, decode"),
        ({"envelope": {"type": "t"}}, "envelope must be a pyfly_ws.Envelope"),
    ],
)
def test_bad_options_fail_where_they_are_written(options: dict[str, Any], match: str) -> None:
    with pytest.raises((TypeError, ValueError), match=match):
        websocket_mapping("/x", **options)


def test_an_envelope_needs_distinct_non_empty_names() -> None:
    assert Envelope(type="t", id="i", data="d").type == "t"
    with pytest.raises(ValueError, match="must differ"):
        Envelope(type="kind", data="kind")
    with pytest.raises(TypeError, match="non-empty string"):
        Envelope(id="")


@pytest.mark.parametrize("bad", ["", 3, None])
def test_a_message_type_is_a_non_empty_string(bad: Any) -> None:
    with pytest.raises(TypeError, match="non-empty message type string"):
        message_mapping(bad)


@pytest.mark.parametrize("reserved", ["reply", "error"])
def test_the_wire_formats_own_types_cannot_be_mapped(reserved: str) -> None:
    with pytest.raises(ValueError, match="reserved by the wire format"):
        message_mapping(reserved)


def _gateway(**methods: Any) -> type:
    cls = type("Gateway", (), methods)
    return rest_controller(websocket_mapping("/g")(cls))


def test_a_type_mapped_twice_names_both_methods() -> None:
    async def one(self: Any) -> None: ...

    async def two(self: Any) -> None: ...

    cls = _gateway(one=message_mapping("t")(one), two=message_mapping("t")(two))
    with pytest.raises(ConfigurationError, match=r"'t' is mapped twice: by Gateway\.one and Gateway\.two"):
        create_app(cls)


def test_two_payload_parameters_are_refused() -> None:
    async def both(self: Any, a: int, b: int) -> None: ...

    with pytest.raises(ConfigurationError, match=r"Gateway\.both: two payload parameters, 'a' and 'b'"):
        discover(_gateway(both=message_mapping("t")(both)))


def test_keyword_only_and_variadic_parameters_are_refused() -> None:
    async def star(self: Any, *args: Any) -> None: ...

    with pytest.raises(ConfigurationError, match="parameter 'args' must be positional"):
        discover(_gateway(star=message_mapping("t")(star)))


def test_a_static_method_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="make it a plain method"):
        discover(_gateway(s=staticmethod(message_mapping("t")(lambda: None))))


def test_a_gateway_that_could_answer_nothing_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="no @message_mapping method and no on_message"):
        discover(_gateway())


def test_on_message_alone_is_enough() -> None:
    async def on_message(self: Any, session: WebSocketSession, message: Message) -> None: ...

    (endpoint,) = discover(_gateway(on_message=on_message))
    assert endpoint.dispatcher is not None


def test_an_unresolvable_annotation_names_the_handler() -> None:
    async def bad(self: Any, data: NotDefined) -> None:  # type: ignore[name-defined]  # noqa: F821
        ...

    with pytest.raises(ConfigurationError, match=r"Gateway\.bad: cannot read its annotations"):
        discover(_gateway(bad=message_mapping("t")(bad)))


def test_both_decorators_on_one_method_are_refused() -> None:
    async def both(self: Any, session: WebSocketSession) -> None: ...

    with pytest.raises(ConfigurationError, match="has both @websocket_mapping and @message_mapping"):
        discover(_gateway(both=message_mapping("t")(websocket_mapping("/x")(both))))
