"""The AsyncAPI pages on every adapter behind a real uvicorn: byte for byte what the reference app answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from examples.chat import ChatController
from pyfly_ws import AsyncAPI, Container, HandshakeView, Reject, create_app
from pyfly_ws.hub import Hub
from tests.support.server import serve

pytestmark = pytest.mark.anyio

REQUESTS = [
    (method, path, headers)
    for path in ("/docs/asyncapi", "/docs/asyncapi.json", "/docs/asyncapi.yaml")
    for method, headers in (("GET", {"x-key": "k"}), ("HEAD", {"x-key": "k"}), ("POST", {}), ("GET", {}), ("HEAD", {}))
]
"""Each page with and without the guard's key, for GET, HEAD and a method pages do not take."""
COMPARED = ("content-type", "content-length", "allow", "content-security-policy", "x-content-type-options")


def key_guard(view: HandshakeView) -> None:
    if view.headers.get("x-key") != "k":
        raise Reject(401, "the docs need a key")


def chat_app(adapter: str) -> Any:
    hub = Hub()
    container = Container()
    container.register_instance(hub)
    container.register(ChatController)
    options = AsyncAPI(path="/docs/asyncapi", title="chat", version="1", guards=[key_guard])
    return create_app(container, adapter, services=[hub], asyncapi=options)


def seen(reply: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    return reply.status_code, {name: reply.headers[name] for name in COMPARED if name in reply.headers}, reply.content


async def answers(http: httpx.AsyncClient) -> list[tuple[int, dict[str, str], bytes]]:
    return [seen(await http.request(method, path, headers=headers)) for method, path, headers in REQUESTS]


async def test_every_adapter_answers_as_the_reference(adapter_name: str) -> None:
    reference = httpx.AsyncClient(transport=httpx.ASGITransport(app=chat_app("asgi")), base_url="http://testserver")
    async with reference:
        expected = await answers(reference)
    with serve(chat_app(adapter_name)) as url:
        async with httpx.AsyncClient(base_url=url.replace("ws://", "http://")) as http:
            got = await answers(http)
    for (method, path, headers), want, have in zip(REQUESTS, expected, got, strict=True):
        assert have == want, f"{adapter_name}: {method} {path} {headers}"
    assert [status for status, _, _ in got[:5]] == [200, 200, 405, 401, 401]  # the HTML page
    assert got[0][2].startswith(b"<!doctype html>") and b"/ws/chat/{room}" in got[0][2]
    assert got[1][2] == b"" and got[1][1]["content-length"] == str(len(got[0][2]))
