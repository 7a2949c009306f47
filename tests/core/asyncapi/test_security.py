"""What the document says of an endpoint that signs its sessions in: its security scheme and its auth messages."""

from __future__ import annotations

from typing import Any

import pytest

from pyfly_ws import Principal, WebSocketSession, discover, message_mapping, rest_controller, websocket_mapping
from pyfly_ws.asyncapi import AsyncAPI, asyncapi_document
from pyfly_ws.auth import CookieToken, HeaderToken, MessageToken, QueryToken, SubprotocolToken
from tests.core.asyncapi import validate


def verify(token: str) -> Principal:
    return Principal(token)


def document(*sources: object) -> dict[str, Any]:
    found = asyncapi_document(discover(list(sources), check=False), AsyncAPI(title="t", version="1"))
    validate.check(found)
    return found


@rest_controller
@websocket_mapping("/ws/signed", authenticator=SubprotocolToken(verify, protocols=["app.v1"]))
class Signed:
    @message_mapping("ping")
    async def ping(self) -> str:
        return "pong"


@rest_controller
@websocket_mapping("/ws/first", authenticator=MessageToken(verify, deadline=3))
class First:
    @message_mapping("ping")
    async def ping(self) -> str:
        return "pong"


@rest_controller
@websocket_mapping("/ws/open")
class Open:
    @message_mapping("ping")
    async def ping(self) -> str:
        return "pong"


@rest_controller
class Raw:
    @websocket_mapping("/raw/header", authenticator=HeaderToken(verify))
    async def header(self, session: WebSocketSession) -> None: ...

    @websocket_mapping("/raw/token", authenticator=HeaderToken(verify, scheme="Token"))
    async def token(self, session: WebSocketSession) -> None: ...

    @websocket_mapping("/raw/cookie", authenticator=CookieToken(verify, name="sid"), allowed_origins=["https://a.test"])
    async def cookie(self, session: WebSocketSession) -> None: ...

    @websocket_mapping("/raw/query", authenticator=QueryToken(verify))
    async def query(self, session: WebSocketSession) -> None: ...

    @websocket_mapping("/raw/other", authenticator=SubprotocolToken(verify, protocols=["other.v1"]))
    async def other(self, session: WebSocketSession) -> None: ...

    @websocket_mapping("/raw/same", authenticator=SubprotocolToken(verify, protocols=["app.v1"]))
    async def same(self, session: WebSocketSession) -> None: ...


def operations_of(doc: dict[str, Any], channel: str) -> dict[str, dict[str, Any]]:
    return {
        name.removeprefix(f"{channel}."): operation
        for name, operation in doc["operations"].items()
        if operation["channel"]["$ref"] == f"#/channels/{channel}"
    }


def test_a_message_level_endpoint_describes_auth_refresh_and_auth_expiring() -> None:
    doc = document(Signed, Open)
    signed = operations_of(doc, "Signed")
    assert sorted(signed) == ["receive.auth.refresh", "receive.ping", "send.auth.expiring"]
    refresh = doc["components"]["messages"]["Signed.auth.refresh"]["payload"]
    assert refresh["properties"]["type"] == {"const": "auth.refresh"}
    assert refresh["properties"]["data"]["required"] == ["token"]
    replies = [ref["$ref"] for ref in signed["receive.auth.refresh"]["reply"]["messages"]]
    assert replies == ["#/channels/Signed/messages/auth.reply", "#/channels/Signed/messages/error"]
    reply = doc["components"]["messages"]["Signed.auth.reply"]["payload"]["properties"]["data"]
    assert reply["required"] == ["identity", "expires_at"]
    expiring = doc["components"]["messages"]["Signed.auth.expiring"]["payload"]["properties"]["data"]
    assert expiring["required"] == ["expires_at", "seconds"]
    assert "3000" in signed["send.auth.expiring"]["description"]
    # Every operation of the signed endpoint needs its scheme; those of the open one, nothing.
    assert {str(operation["security"]) for operation in signed.values()} == {
        "[{'$ref': '#/components/securitySchemes/subprotocolToken'}]"
    }
    opened = operations_of(doc, "Open")
    assert sorted(opened) == ["receive.ping"] and "security" not in opened["receive.ping"]
    scheme = doc["components"]["securitySchemes"]["subprotocolToken"]
    assert (scheme["type"], scheme["name"], scheme["in"]) == ("httpApiKey", "Sec-WebSocket-Protocol", "header")
    assert "`bearer.<token>`" in scheme["description"] and "`app.v1`" in scheme["description"]


def test_a_token_in_the_first_message_is_the_auth_message_with_its_deadline() -> None:
    doc = document(First)
    first = operations_of(doc, "First")
    assert sorted(first) == ["receive.auth", "receive.auth.refresh", "receive.ping", "send.auth.expiring"]
    assert "within 3 s" in first["receive.auth"]["description"] and "1008" in first["receive.auth"]["description"]
    assert "securitySchemes" not in doc.get("components", {}) and "security" not in first["receive.ping"]


def test_each_handshake_token_has_its_scheme_and_a_method_endpoint_no_auth_messages() -> None:
    doc = document(Raw, Signed)
    schemes = doc["components"]["securitySchemes"]
    assert schemes == {
        "bearerHeader": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer`."},
        "cookie.sid": {
            "type": "httpApiKey",
            "name": "sid",
            "in": "cookie",
            "description": "The token in a cookie; only pages of the origins the endpoint allows may connect.",
        },
        "query.token": {
            "type": "httpApiKey",
            "name": "token",
            "in": "query",
            "description": "The token in the URL's query string.",
        },
        "subprotocolToken": schemes["subprotocolToken"],  # /raw/other, the first in path order
        "subprotocolToken-2": schemes["subprotocolToken-2"],  # /raw/same and Signed: the same scheme, one name
        "tokenHeader": {
            "type": "httpApiKey",
            "name": "Authorization",
            "in": "header",
            "description": "`Authorization: token <token>`.",
        },
    }
    assert "`other.v1`" in schemes["subprotocolToken"]["description"]
    assert "`app.v1`" in schemes["subprotocolToken-2"]["description"]
    for channel, scheme in [
        ("Raw.header", "bearerHeader"),
        ("Raw.token", "tokenHeader"),
        ("Raw.cookie", "cookie.sid"),
        ("Raw.query", "query.token"),
        ("Raw.other", "subprotocolToken"),
        ("Raw.same", "subprotocolToken-2"),
        ("Signed", "subprotocolToken-2"),
    ]:
        found = operations_of(doc, channel)
        if channel.startswith("Raw."):  # a method endpoint reads its frames itself: no auth messages
            assert sorted(found) == ["receive", "send"], channel
        for operation in found.values():
            assert operation["security"] == [{"$ref": f"#/components/securitySchemes/{scheme}"}], channel


@pytest.mark.parametrize("source", [Signed, First])
def test_the_auth_messages_are_the_reserved_types(source: type) -> None:
    doc = document(source)
    names = {message["name"] for message in doc["components"]["messages"].values()}
    assert {"auth.refresh", "auth.expiring"} <= names
