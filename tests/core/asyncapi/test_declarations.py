"""``@emits`` and ``@handshake_schema``: what they accept, and the error for each mistake."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from pyfly_ws import (
    ConfigurationError,
    HandshakeView,
    WebSocketSession,
    discover,
    emits,
    handshake_schema,
    message_mapping,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.asyncapi import asyncapi_document
from pyfly_ws.mapping.emits import declared_emits
from pyfly_ws.mapping.handshake import declared_handshake


@dataclass
class A:
    a: int


@dataclass
class B:
    b: str


def gateway(*decorators: Callable[[Any], Any]) -> type:
    @rest_controller
    @websocket_mapping("/g")
    class Gateway:
        @message_mapping("hello")
        def hello(self) -> None: ...

    for decorator in decorators:
        decorator(Gateway)
    return Gateway


def document(*controllers: type) -> dict[str, Any]:
    return asyncapi_document(discover(list(controllers), check=False))


@pytest.mark.parametrize(
    ("make", "error", "text"),
    [
        (lambda: emits(""), TypeError, "@emits takes a non-empty message type string, got ''"),
        (lambda: emits(3), TypeError, "@emits takes a non-empty message type string, got 3"),  # type: ignore[arg-type]
        (lambda: emits("reply"), ConfigurationError, "@emits('reply'): the type is reserved by the wire format"),
        (lambda: emits("error", A), ConfigurationError, "@emits('error'): the type is reserved"),
        (lambda: emits("x", description=1), TypeError, "@emits('x'): description is a string"),  # type: ignore[arg-type]
        (lambda: emits("x")(1), TypeError, "@emits decorates a message-level controller class"),
    ],
)
def test_emits_refuses_at_once(make: Callable[[], Any], error: type[Exception], text: str) -> None:
    with pytest.raises(error) as caught:
        make()
    assert str(caught.value).startswith(text)


def test_emits_stacks_and_one_type_means_one_payload() -> None:
    cls = gateway(emits("a", A), emits("b", B, reply=A), emits("a", A, description="again"))
    assert [(e.type, e.request) for e in declared_emits(cls)] == [("a", False), ("b", True), ("a", False)]
    with pytest.raises(ConfigurationError, match=r"Gateway: @emits\('a'\) is declared twice, with different payloads"):
        emits("a", B)(cls)
    with pytest.raises(ConfigurationError, match="declared twice"):
        emits("b", B)(cls)  # a push where a request was declared
    doc = document(cls)
    assert sorted(doc["operations"]) == [
        "gateway.Gateway.receive.hello",
        "gateway.Gateway.send.a",
        "gateway.Gateway.send.b",
    ]
    assert doc["components"]["messages"]["gateway.Gateway.a"]["description"] == "again"


def test_a_type_the_class_and_a_handler_declare_differently_is_refused() -> None:
    @rest_controller
    @websocket_mapping("/g")
    @emits("news", A)
    class Gateway:
        @message_mapping("hello")
        @emits("news", B)
        def hello(self) -> None: ...

    with pytest.raises(ConfigurationError) as caught:
        document(Gateway)
    assert str(caught.value).endswith(
        "<locals>.Gateway.hello: @emits('news') is declared twice, with different payloads (A and B)"
    )


def test_emits_where_no_message_is_sent_is_refused() -> None:
    @rest_controller
    @emits("news", A)
    class Methods:
        @websocket_mapping("/m")
        async def m(self, session: WebSocketSession) -> None: ...

    @rest_controller
    class OnAMethodEndpoint:
        @websocket_mapping("/n")
        @emits("news", A)
        async def n(self, session: WebSocketSession) -> None: ...

    @rest_controller
    @websocket_mapping("/g")
    class OnAPlainMethod:
        @message_mapping("hello")
        def hello(self) -> None: ...

        @emits("news", A)
        def helper(self) -> None: ...

    with pytest.raises(
        ConfigurationError, match=r"<locals>\.Methods: @emits declares messages of a message-level endpoint"
    ):
        document(Methods)
    with pytest.raises(ConfigurationError, match=r"<locals>\.OnAMethodEndpoint\.n: @emits declares messages"):
        document(OnAMethodEndpoint)
    with pytest.raises(
        ConfigurationError, match=r"<locals>\.OnAPlainMethod\.helper: @emits on a method marks a @message_"
    ):
        document(OnAPlainMethod)


class Opaque:
    """No payload type: neither a dataclass, nor a model, nor a Struct."""


def test_a_payload_the_document_cannot_describe_names_its_declaration() -> None:
    with pytest.raises(ConfigurationError) as caught:
        document(gateway(emits("news", Opaque)))
    assert str(caught.value).startswith("gateway.<locals>.Gateway (@emits('news')): cannot describe")
    assert str(caught.value).endswith(
        "cannot describe Opaque in the AsyncAPI document: Opaque is not a payload type pyfly-ws validates"
    )

    @rest_controller
    @websocket_mapping("/r")
    class Replies:
        @message_mapping("hello")
        def hello(self) -> Opaque:
            return Opaque()

    with pytest.raises(ConfigurationError, match=r"<locals>\.Replies\.hello \(its return type\): cannot describe"):
        document(Replies)


def test_handshake_schema_marks_guards_classes_and_methods() -> None:
    @handshake_schema(query={"a": "first"}, headers={"X-A": {"type": "string", "maxLength": 8}}, required=["a", "x-a"])
    @handshake_schema(query={"a": "ignored", "b": "second"})
    def guard(view: HandshakeView) -> None: ...

    found = declared_handshake(guard)
    assert found is not None
    assert dict(found.query) == {
        "a": {"type": "string", "description": "first"},
        "b": {"type": "string", "description": "second"},
    }
    assert dict(found.headers) == {"X-A": {"type": "string", "maxLength": 8}}
    assert found.required == {"a", "x-a"}
    assert declared_handshake(staticmethod(guard)) is found
    assert declared_handshake(functools.partial(guard)) is found
    assert declared_handshake(functools.wraps(guard)(lambda view: None)) is found
    assert declared_handshake(lambda view: None) is None


@pytest.mark.parametrize(
    ("arguments", "error", "text"),
    [
        ({"query": {"": "x"}}, TypeError, "@handshake_schema: a query parameter name is a non-empty string"),
        ({"headers": {"h": 3}}, TypeError, "@handshake_schema: header 'h' is described by a string or a JSON Schema"),
        ({"query": {"q": {"default": object()}}}, TypeError, "@handshake_schema: the schema of query parameter 'q' is"),
        ({"headers": {"A": "x", "a": "y"}}, ConfigurationError, "@handshake_schema: headers are named without case"),
        ({"query": {"q": "x"}, "required": ["r"]}, ConfigurationError, "@handshake_schema: required names ['r']"),
        ({"required": "q"}, TypeError, "@handshake_schema: required is a list of names"),
    ],
)
def test_handshake_schema_refuses_at_once(arguments: dict[str, Any], error: type[Exception], text: str) -> None:
    with pytest.raises(error) as caught:
        handshake_schema(**arguments)
    assert str(caught.value).startswith(text)
