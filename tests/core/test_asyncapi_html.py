"""The AsyncAPI HTML page, read back as a browser would see it: every channel, message and field; nothing loaded."""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from typing import Any

import pytest

from pyfly_ws import WebSocketSession, discover, rest_controller, websocket_mapping
from pyfly_ws.asyncapi import AsyncAPI, asyncapi_document
from pyfly_ws.asyncapi.html import document_html
from pyfly_ws.asyncapi.html_schema import MAX_ROWS
from tests.core.asyncapi_fixture import chat_document

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


class Page(HTMLParser):
    """The parsed page: its text, its tags with their attributes, the ids and the links."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text_parts: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(source)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text_parts).append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    @property
    def ids(self) -> set[str]:
        return {str(attrs["id"]) for _, attrs in self.tags if attrs.get("id")}

    @property
    def links(self) -> list[str]:
        return [str(attrs["href"]) for tag, attrs in self.tags if tag == "a" and "href" in attrs]


def page_of(document: dict[str, Any]) -> Page:
    return Page(document_html(document))


def test_every_channel_operation_message_and_payload_field_is_on_the_page() -> None:
    page = page_of(chat_document())
    text = page.text
    for expected in (
        "Chat rooms",
        "1.2.0",
        "Every member gets what anyone says.",
        "AsyncAPI 3.0.0",
        "ws://127.0.0.1:8000",
        "wss://chat.example.com/v1",
        "/ws/chat/{room}",
        "/ws/tree",
        "The room's name.",  # a channel parameter
        "Query parameters",  # the ws binding
        "ChatController.send",
        "ChatController.pushes",
        "the application receives it: client to server",
        "the application sends it: server to client",
        "Reply",
    ):
        assert expected in text, f"{expected!r} is not on the page"
    for name in ("chat.send", "reply", "chat.message", "room.joined", "error", "tree.put", "ping"):
        assert name in text, f"the message {name!r} is not on the page"
    fields = [
        "data.text",
        "data.id",
        "data.at",
        "data.from",
        "data.from.name",
        "data.from.nickname",
        "data.seen_by",
        "data.seen_by[].name",
        "data.members",
        "data.label",
        "data.children",
        "code",
        "errors[].loc",
        "errors[].msg",
    ]
    for field in fields:
        assert f" {field} " in f" {text} ", f"the field {field!r} is not on the page"
    for fact in ('always "chat.send"', "at most 2000 characters", "format: date-time", "≥ 1", "string | null"):
        assert fact in text, f"{fact!r} is not on the page"
    assert '"invalid_payload", "unknown_type", "internal_error"' in text  # the shared error message's codes
    assert "object (ChatSend)" in text and "array of object (Member)" in text  # named after their components


def test_a_message_several_channels_list_is_shown_once_and_linked_from_each() -> None:
    page = page_of(chat_document())
    assert page.text.count("A message the server could not take.") == 2  # its block, and the reply of chat.send
    [anchor] = [ident for ident in page.ids if ident.startswith("message-error")]
    assert page.links.count(f"#{anchor}") >= 3  # both channels, and the reply of chat.send
    shared = page.text.index("Shared messages", page.text.index("/ws/tree"))
    assert page.text.index("What went wrong.") > shared


def test_a_recursive_schema_is_listed_once_and_marked() -> None:
    page = page_of(chat_document())
    assert "array of Node (recursive, see above)" in page.text
    assert "data.children[]" not in page.text


def test_reference_loops_dangling_references_and_odd_values_render() -> None:
    document = chat_document()
    schemas = document["components"]["schemas"]
    schemas["Loop"] = {"$ref": "#/components/schemas/Loop"}
    schemas["A"] = {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}}
    schemas["B"] = {"allOf": [{"$ref": "#/components/schemas/A"}], "properties": {"x": {"type": "integer"}}}
    document["channels"]["Odd"] = {
        "address": None,
        "messages": {
            "odd": {
                "payload": {
                    "type": "object",
                    "properties": {
                        "loop": {"$ref": "#/components/schemas/Loop"},
                        "gone": {"$ref": "#/components/schemas/Missing"},
                        "elsewhere": {"$ref": "other.yaml#/Thing"},
                        "a": {"$ref": "#/components/schemas/A"},
                        "either": {
                            "oneOf": [{"type": "object", "properties": {"left": {}}}, {"properties": {"right": {}}}]
                        },
                        "weird": {"type": 7, "enum": "not a list", "properties": ["nope"]},
                    },
                }
            },
            "bad": "not a message",
        },
    }
    document["operations"]["broken"] = {"action": "fly", "channel": {"$ref": "#/channels/Nowhere"}, "messages": "x"}
    text = page_of(document).text
    assert "Odd (no address)" in text
    assert "#/components/schemas/Missing (not found)" in text and "other.yaml#/Thing (not found)" in text
    assert "a.b.x" in text and "a.b.b" in text and "(recursive, see above)" in text
    assert "either.left" in text and "either.right" in text and "variant 2" in text


def test_text_from_the_document_never_becomes_markup() -> None:
    document = chat_document()
    document["info"]["title"] = HOSTILE
    document["info"]["description"] = HOSTILE
    document["servers"][HOSTILE] = {"host": HOSTILE, "protocol": HOSTILE}
    document["channels"][HOSTILE] = {
        "address": HOSTILE,
        "description": HOSTILE,
        "parameters": {HOSTILE: {"description": HOSTILE, "enum": [HOSTILE]}},
        "messages": {
            HOSTILE: {
                "name": HOSTILE,
                "contentType": HOSTILE,
                "payload": {"properties": {HOSTILE: {"description": HOSTILE, "const": HOSTILE}}},
            }
        },
        "bindings": {"ws": {"query": {"properties": {HOSTILE: {"type": HOSTILE}}}}, HOSTILE: {HOSTILE: HOSTILE}},
    }
    document["operations"][HOSTILE] = {
        "action": HOSTILE,
        "channel": {"$ref": f"#/channels/{HOSTILE}"},
        "summary": HOSTILE,
    }
    source = document_html(document)
    page = Page(source)
    assert {tag for tag, _ in page.tags} <= {
        "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "h4", "p", "span", "code",
        "section", "nav", "ul", "li", "a", "table", "tr", "th", "td", "div", "strong", "pre",
    }  # fmt: skip
    assert "<script" not in source and "<img" not in source
    assert page.text.count("<script>alert(1)</script>") >= 10  # shown as text, where the document put it
    for _, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), attrs
        assert set(attrs) <= {"lang", "charset", "name", "content", "id", "class", "href", "style"}, attrs


def test_the_page_loads_nothing_and_every_link_stays_on_it() -> None:
    source = document_html(chat_document())
    page = Page(source)
    assert {tag for tag, _ in page.tags}.isdisjoint({"script", "img", "link", "iframe", "object", "embed", "base"})
    assert not any("src" in attrs for _, attrs in page.tags)
    assert page.links, "the page links nothing: no table of contents?"
    for link in page.links:
        assert link.startswith("#") and link[1:] in page.ids, f"{link} does not point into the page"
    style = " ".join(page.styles)
    assert "url(" not in style and "@import" not in style and "//" not in style


def test_a_huge_payload_is_cut_and_says_so() -> None:
    document = chat_document()
    wide = {"type": "object", "properties": {f"f{n}": {"type": "string"} for n in range(MAX_ROWS + 50)}}
    document["components"]["messages"]["unused"]["payload"] = wide
    text = page_of(document).text
    assert f"f{MAX_ROWS - 1}" in text and f" f{MAX_ROWS} " not in f"{text} "
    assert "more fields not shown" in text


def test_small_and_empty_documents_render() -> None:
    assert "This document has no channels." in page_of({"asyncapi": "3.0.0", "info": {}}).text
    text = page_of(
        {
            "asyncapi": "3.0.0",
            "info": {"title": "t", "version": "1"},
            "channels": {"c": {"address": "/c", "messages": {"m": {"payload": {"type": "string", "maxLength": 3}}}}},
        }
    ).text
    assert "(payload) string yes at most 3 characters" in text


def test_the_page_of_a_generated_document() -> None:
    @rest_controller
    class Tiny:
        @websocket_mapping("/tiny/{name}")
        async def tiny(self, session: WebSocketSession) -> None:
            await session.accept()

    document = asyncapi_document(discover(Tiny), AsyncAPI(title="Tiny", version="2.0.0"))
    text = page_of(copy.deepcopy(document)).text
    assert "Tiny 2.0.0" in text
    for channel in document["channels"].values():
        assert channel["address"] in text


@pytest.mark.parametrize("part", ["info", "channels", "servers", "operations", "components"])
def test_a_part_of_the_wrong_shape_is_left_out(part: str) -> None:
    document = chat_document()
    document[part] = ["not", "a", "mapping"]
    assert "<!doctype html>" in document_html(document)
