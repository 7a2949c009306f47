"""The session state machine and typed messaging, over an in-memory connection."""

from __future__ import annotations

import uuid

import pytest

from pyfly_ws import (
    InvalidPayloadError,
    MessageTypeError,
    SessionClosedError,
    SessionState,
    WebSocketDisconnect,
    WebSocketSession,
    WebSocketStateError,
)
from tests.support.fake import FakeConnection

pytestmark = pytest.mark.anyio


def make(*incoming: str | bytes | WebSocketDisconnect, **params: object) -> tuple[WebSocketSession, FakeConnection]:
    conn = FakeConnection(incoming=list(incoming))
    return WebSocketSession(conn, params), conn


async def test_handshake_facts_are_read_only_views() -> None:
    rid = uuid.uuid4()
    session, _ = make(room=rid)
    assert session.path == "/ws/x"
    assert session.path_params == {"room": rid}
    assert session.query_params["a"] == "1"
    assert session.query_params.getlist("a") == ["1", "2"]
    assert session.query_params["b"] == ""
    assert session.headers["X-Token"] == "t"
    assert session.headers.getlist("x-TOKEN") == ["t"]
    assert session.client == ("127.0.0.1", 5)
    assert session.subprotocols == ("chat",)
    with pytest.raises(TypeError):
        session.headers["x"] = "y"  # type: ignore[index]
    session.state["user"] = "ann"
    assert session.state == {"user": "ann"}


async def test_states_move_connecting_accepted_closed() -> None:
    session, conn = make()
    assert session.session_state is SessionState.CONNECTING
    assert not session.accepted and not session.closed
    await session.accept("chat", {"X-Extra": "1"})
    assert conn.accepted == ("chat", [(b"x-extra", b"1")])
    assert session.accepted and session.session_state is SessionState.ACCEPTED
    await session.close(4000, "done")
    assert conn.closed == (4000, "done")
    assert session.closed and session.accepted
    assert (session.close_code, session.close_reason) == (4000, "done")
    await session.close()  # closing twice does nothing
    assert conn.closed == (4000, "done")


async def test_accept_checks_state_and_subprotocol() -> None:
    session, _ = make()
    with pytest.raises(ValueError, match="'graphql' was not requested by the client"):
        await session.accept("graphql")
    with pytest.raises(ValueError, match="control characters"):
        await session.accept(headers=[("x-bad", "a\r\nb")])
    await session.accept()
    with pytest.raises(WebSocketStateError, match="accept\\(\\) needs a connecting session"):
        await session.accept()


async def test_messaging_before_accept_names_the_fix() -> None:
    session, _ = make("hi")
    with pytest.raises(WebSocketStateError, match="before accept"):
        await session.receive_text()
    with pytest.raises(WebSocketStateError, match="before accept"):
        await session.send_text("x")


async def test_close_before_accept_refuses() -> None:
    session, conn = make()
    await session.close(1008)
    assert conn.accepted is None and conn.closed == (1008, "")
    assert session.closed and not session.accepted


async def test_send_variants_and_type_errors() -> None:
    session, conn = make()
    await session.accept()
    await session.send_text("t")
    await session.send_bytes(bytearray(b"b"))
    await session.send("s")
    await session.send(b"y")
    await session.send_json({"é": [1, None]})
    await session.send_json([1], mode="binary")
    assert conn.sent == ["t", b"b", "s", b"y", '{"é":[1,null]}', b"[1]"]
    with pytest.raises(TypeError, match="send_text\\(\\) takes str, got bytes"):
        await session.send_text(b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="send_bytes\\(\\) takes bytes, got str"):
        await session.send_bytes("x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="send\\(\\) takes str or bytes, got int"):
        await session.send(1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="JSON mode must be 'text' or 'binary', got 'xml'"):
        await session.send_json({}, mode="xml")  # type: ignore[arg-type]


async def test_receive_typed_messages() -> None:
    session, _ = make("t", b"b", '{"a":1}', b'{"b":2}', "x", b"y")
    await session.accept()
    assert await session.receive_text() == "t"
    assert await session.receive_bytes() == b"b"
    assert await session.receive_json() == {"a": 1}
    assert await session.receive_json(mode="binary") == {"b": 2}
    assert await session.receive() == "x"
    assert await session.receive() == b"y"


@pytest.mark.parametrize(
    ("incoming", "call", "error", "code"),
    [
        (b"b", "receive_text", MessageTypeError, 1003),
        ("t", "receive_bytes", MessageTypeError, 1003),
        ("{nope", "receive_json", InvalidPayloadError, 1007),
        (b"\xff\xfe", "receive_json_binary", InvalidPayloadError, 1007),
        ("[" * 100_000, "receive_json", InvalidPayloadError, 1007),
    ],
)
async def test_wrong_messages_raise_errors_with_close_codes(
    incoming: str | bytes, call: str, error: type[Exception], code: int
) -> None:
    session, _ = make(incoming)
    await session.accept()
    method = session.receive_json if call == "receive_json_binary" else getattr(session, call)
    args = ("binary",) if call == "receive_json_binary" else ()
    with pytest.raises(error) as info:
        await method(*args)
    assert info.value.close_code == code  # type: ignore[attr-defined]


async def test_peer_disconnect_is_sticky_and_sends_fail_clearly() -> None:
    session, _ = make("a", WebSocketDisconnect(4001, "gone"))
    await session.accept()
    assert await session.receive_text() == "a"
    for _ in range(2):
        with pytest.raises(WebSocketDisconnect) as info:
            await session.receive()
        assert (info.value.code, info.value.reason) == (4001, "gone")
    assert session.closed and session.close_code == 4001
    with pytest.raises(SessionClosedError, match="cannot send text: the WebSocket session is closed \\(code 4001\\)"):
        await session.send_text("late")


async def test_send_to_vanished_peer_raises_disconnect_family() -> None:
    session, conn = make()
    await session.accept()
    conn.gone_on_send = True
    with pytest.raises(SessionClosedError) as info:
        await session.send_text("x")
    assert isinstance(info.value, WebSocketDisconnect) and info.value.code == 1006
    assert session.closed


async def test_send_after_server_close() -> None:
    session, _ = make()
    await session.accept()
    await session.close()
    with pytest.raises(SessionClosedError, match="cannot send JSON"):
        await session.send_json({})
    with pytest.raises(SessionClosedError, match="cannot receive"):
        await session.receive()


async def test_iterators_end_cleanly_on_disconnect() -> None:
    session, _ = make("a", "b")
    await session.accept()
    assert [t async for t in session.iter_text()] == ["a", "b"]
    session, _ = make(b"a", b"b")
    await session.accept()
    assert [b async for b in session.iter_bytes()] == [b"a", b"b"]
    session, _ = make("1", "[2]")
    await session.accept()
    assert [j async for j in session.iter_json()] == [1, [2]]
    session, _ = make(b'{"x":1}')
    await session.accept()
    assert [j async for j in session.iter_json("binary")] == [{"x": 1}]


@pytest.mark.parametrize(("code", "reason"), [(1004, None), (1005, None), (999, None), (5000, None), (1000, "x" * 124)])
async def test_close_rejects_invalid_codes_and_reasons(code: int, reason: str | None) -> None:
    session, conn = make()
    await session.accept()
    with pytest.raises(ValueError, match=r"close code|at most 123 bytes"):
        await session.close(code, reason)
    assert conn.closed is None


def test_an_asgi_connection_subclass_that_overrides_receive_or_send_is_not_bypassed() -> None:
    """The session reads an ASGIConnection's events itself only while nobody changed how they are read."""
    from pyfly_ws.asgi import ASGIConnection

    class Plain(ASGIConnection):
        pass

    class Tweaked(ASGIConnection):
        async def receive(self) -> str | bytes:
            return await super().receive()

    class Sending(ASGIConnection):
        async def send(self, data: str | bytes) -> None:
            await super().send(data)

    class Insisting(Tweaked):
        direct_events = True  # says itself that its override need not run per message

    assert ASGIConnection.direct_events and Plain.direct_events and Insisting.direct_events
    assert not Tweaked.direct_events and not Sending.direct_events
