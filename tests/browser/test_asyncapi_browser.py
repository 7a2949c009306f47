"""The chat example's AsyncAPI page in Debian's Chromium, with no way out to anything but 127.0.0.1.

The page must read without internet access: every request the browser makes to another
host is aborted and recorded (and the host resolver and a dead proxy would stop it anyway),
and the test fails if there was any. What the page must show is read from the document the
same application serves at ``/asyncapi.json``: every channel's address, every message's name
and the names of its payload's fields. The screenshot is written to
``.artifacts/asyncapi-chat.png``; with ``PYFLY_WS_UPDATE_SCREENSHOT=1`` the README's
``docs/asyncapi-page.png`` is rewritten from it too.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.request
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from pyfly_ws_conformance.servers import running
from tests.browser.test_chat_browser import ARTIFACTS, CHROMIUM_FLAGS, ROOT, TIMEOUT_MS, chromium

if TYPE_CHECKING:
    from playwright.sync_api import Request, Route

README_SCREENSHOT = ROOT / "docs" / "asyncapi-page.png"
LOOPBACK = "127.0.0.1"
OFFLINE_FLAGS = [
    f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOOPBACK}",  # no name resolves, but the loopback address
    "--proxy-server=http://127.0.0.1:9",  # and whatever gets past goes to a closed port (loopback bypasses it)
]


@pytest.fixture
def chat() -> Iterator[str]:
    """``examples.chat:app`` (its AsyncAPI pages on) behind uvicorn on 127.0.0.1; its http:// base."""
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with running("uvicorn-sansio", "examples.chat:app", env=env) as base:
        yield base.replace("ws://", "http://")


def _resolve(document: Mapping[str, Any], node: Any) -> Any:
    seen: set[str] = set()
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"] not in seen:
        seen.add(node["$ref"])
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _field_names(document: Mapping[str, Any], schema: Any, seen: frozenset[int] = frozenset()) -> set[str]:
    """Every property name inside ``schema``, through ``$ref``, items and combinations."""
    schema = _resolve(document, schema)
    if not isinstance(schema, Mapping) or id(schema) in seen:
        return set()
    seen |= {id(schema)}
    names: set[str] = set()
    for name, sub in (schema.get("properties") or {}).items():
        names |= {name, *_field_names(document, sub, seen)}
    for key in ("items", "additionalProperties"):
        names |= _field_names(document, schema.get(key), seen)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or ():
            names |= _field_names(document, sub, seen)
    return names


def expected_on_the_page(document: Mapping[str, Any]) -> tuple[set[str], dict[str, set[str]]]:
    """The channel addresses, and each message's name with its payload's field names."""
    addresses: set[str] = set()
    messages: dict[str, set[str]] = {}
    for channel in document.get("channels", {}).values():
        channel = _resolve(document, channel)
        addresses.add(channel["address"])
        for key, raw in (channel.get("messages") or {}).items():
            message = _resolve(document, raw)
            payload = message.get("payload")
            if isinstance(payload, Mapping) and "schemaFormat" in payload:
                payload = payload.get("schema")
            messages.setdefault(message.get("name") or key, set()).update(_field_names(document, payload))
    return addresses, messages


def test_the_asyncapi_page_shows_every_channel_message_and_field_offline(chat: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with urllib.request.urlopen(f"{chat}/asyncapi.json", timeout=10) as reply:
        document = json.loads(reply.read())
    addresses, messages = expected_on_the_page(document)
    assert addresses, "the chat example's document has no channel"

    elsewhere: list[str] = []  # every request to a host other than 127.0.0.1: there must be none
    requested: list[str] = []

    def only_loopback(route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname == LOOPBACK:
            route.continue_()
        else:
            elsewhere.append(request.url)
            route.abort("internetdisconnected")

    with tempfile.TemporaryDirectory(prefix="pyfly-ws-chromium-") as profile, sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium(),
            headless=True,
            args=[*CHROMIUM_FLAGS, *OFFLINE_FLAGS],
            viewport={"width": 1100, "height": 760},
        )
        try:
            browser.route("**/*", only_loopback)
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            console: list[str] = []
            page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
            page.goto(f"{chat}/asyncapi", wait_until="networkidle")
            expect(page.locator("h1")).to_contain_text(document["info"]["title"], timeout=TIMEOUT_MS)
            text = page.locator("body").inner_text()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "asyncapi-chat.png"), full_page=True)
            if os.environ.get("PYFLY_WS_UPDATE_SCREENSHOT"):
                README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                # For the README: one message of the chat, its frame's fields in a table.
                page.locator("#message-chat-send").screenshot(path=str(README_SCREENSHOT))
            attempted = list(elsewhere)
            probe = browser.new_page()  # the watch itself: a page that does load something is caught
            probe.set_content('<img src="https://example.com/probe.png">', wait_until="networkidle")
            assert elsewhere[len(attempted) :] == ["https://example.com/probe.png"], elsewhere
        finally:
            browser.close()

    assert not attempted, f"the page asked for something beyond {LOOPBACK}: {attempted}"
    assert all(urlsplit(url).hostname == LOOPBACK for url in requested), requested
    assert not [line for line in console if "Content Security Policy" in line], console
    for address in addresses:
        assert address in text, f"the channel {address} is not on the page"
    for name, fields in messages.items():
        assert name in text, f"the message {name!r} is not on the page"
        missing = sorted(field for field in fields if field not in text)
        assert not missing, f"the fields {missing} of {name!r} are not on the page"
    assert (ARTIFACTS / "asyncapi-chat.png").stat().st_size > 10_000, "the screenshot is suspiciously small"
