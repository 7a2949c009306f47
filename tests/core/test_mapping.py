"""The decorators attach metadata and return the object unchanged."""

from __future__ import annotations

import pytest

from pyfly_ws import WebSocketHandler, WebSocketSession, controller, request_mapping, rest_controller, websocket_mapping


def test_decorators_attach_pyfly_metadata_and_return_the_same_objects() -> None:
    async def handler(self: object, session: WebSocketSession) -> None: ...

    assert websocket_mapping("/chat")(handler) is handler
    assert handler.__pyfly_ws_mapping__ == {"path": "/chat"}  # type: ignore[attr-defined]

    class C:
        """doc"""

    assert request_mapping("/ws")(C) is C
    assert rest_controller(C) is C
    assert (C.__pyfly_request_mapping__, C.__pyfly_stereotype__, C.__doc__) == ("/ws", "rest_controller", "doc")  # type: ignore[attr-defined]


def test_bare_and_called_forms() -> None:
    @controller(name="chat")
    class A:
        @websocket_mapping
        async def a(self, session: WebSocketSession) -> None: ...

    @controller()
    class B: ...

    assert A.__pyfly_stereotype__ == "controller" and A.__pyfly_bean_name__ == "chat"  # type: ignore[attr-defined]
    assert B.__pyfly_stereotype__ == "controller"  # type: ignore[attr-defined]
    assert A.a.__pyfly_ws_mapping__ == {"path": ""}  # type: ignore[attr-defined]


def test_bad_arguments_are_type_errors() -> None:
    with pytest.raises(TypeError, match="takes a path string, got int"):
        websocket_mapping(3)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="takes a path string, got NoneType"):
        request_mapping(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="decorates a class"):
        rest_controller(lambda: None)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="decorates a class"):
        request_mapping("/x")(len)  # type: ignore[type-var]


def test_handler_protocol_is_runtime_checkable() -> None:
    class Full:
        async def on_connect(self, session: WebSocketSession) -> None: ...
        async def on_message(self, session: WebSocketSession, data: str) -> None: ...
        async def on_disconnect(self, session: WebSocketSession) -> None: ...

    class Partial:
        def on_disconnect(self, session: WebSocketSession) -> None: ...

    assert isinstance(Full(), WebSocketHandler)
    assert not isinstance(Partial(), WebSocketHandler)
