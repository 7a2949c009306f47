"""Pages: documents served over plain HTTP beside the endpoints, the AsyncAPI page and documents among them.

An adapter declaring the ``pages`` capability gets ``create_app(endpoints,
pages=kit_pages(endpoints))`` from the kit (see :meth:`Harness.build_app`):
the AsyncAPI pages of this module's controller at :data:`ASYNCAPI_PATH`, and
the same behind a guard at :data:`GUARDED_PATH`. Every answer is the core's,
so status, content type, body, ``HEAD``, ``405`` and a guard's refusal are the
same on every adapter and server.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from typing import Any

from pyfly_ws import Endpoint, HandshakeView, Reject, WebSocketSession, rest_controller, websocket_mapping
from pyfly_ws.adapter import Page
from pyfly_ws.asyncapi import AsyncAPI, asyncapi_document
from pyfly_ws.asyncapi.pages import asyncapi_pages

from ..context import CaseContext
from ..registry import case
from ._support import expect_refused

__all__ = ["ASYNCAPI_PATH", "GUARDED_PATH", "PAGE_KEY", "PagesController", "kit_pages"]

ASYNCAPI_PATH = "/pages/asyncapi"
"""Where the kit serves the AsyncAPI page of :class:`PagesController` (the documents at ``.json`` and ``.yaml``)."""
GUARDED_PATH = "/pages/guarded"
"""The same pages, behind a guard that wants the header ``x-page-key: PAGE_KEY``."""
PAGE_KEY = "open-sesame"
ENDPOINT_PATHS = ("/pages/ws/echo", "/pages/ws/rooms/{room}")
"""The endpoints the documents describe."""


@rest_controller
class PagesController:
    """Two endpoints for the documents to describe (they echo, for a case that checks they still serve)."""

    @websocket_mapping("/pages/ws/echo")
    async def echo(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text(await session.receive_text())

    @websocket_mapping("/pages/ws/rooms/{room}")
    async def room(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text(session.path_params["room"])


def _key_guard(view: HandshakeView) -> None:
    if view.headers.get("x-page-key") != PAGE_KEY:
        raise Reject(401, "a page key is needed")


def kit_pages(endpoints: Sequence[Endpoint]) -> list[Page]:
    """The pages the kit asks an adapter with the ``pages`` capability to serve beside ``endpoints``."""
    described = [endpoint for endpoint in endpoints if endpoint.controller is PagesController]
    options = AsyncAPI(path=ASYNCAPI_PATH, title="pyfly-ws conformance", version="1.0.0")
    guarded = AsyncAPI(path=GUARDED_PATH, title="pyfly-ws conformance", version="1.0.0", guards=[_key_guard])
    document = asyncapi_document(described, options)
    return [*asyncapi_pages(document, options), *asyncapi_pages(document, guarded)]


def _yaml() -> Any:
    """PyYAML where it can be imported (the server runs in the same environment), else ``None``."""
    try:
        return importlib.import_module("yaml")
    except ModuleNotFoundError as exc:
        if exc.name != "yaml":
            raise
        return None


async def _document(ctx: CaseContext) -> dict[str, Any]:
    reply = await ctx.http("GET", f"{ASYNCAPI_PATH}.json")
    assert reply.status == 200, f"GET {ASYNCAPI_PATH}.json: expected 200, got {reply.status} {reply.body[:200]!r}"
    found = json.loads(reply.body)
    assert isinstance(found, dict), f"the document is not a JSON object: {found!r}"
    return found


@case("pages.asyncapi_json", requires=("pages",))
async def asyncapi_json(ctx: CaseContext) -> None:
    """``GET path.json`` is the AsyncAPI 3.0.0 document as ``application/json``, with a channel per endpoint."""
    reply = await ctx.http("GET", f"{ASYNCAPI_PATH}.json")
    assert reply.status == 200, f"expected 200, got {reply.status}"
    assert reply.headers.get("content-type") == "application/json", reply.headers
    assert reply.headers.get("content-length") == str(len(reply.body)), reply.headers
    document = json.loads(reply.body)
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] == "pyfly-ws conformance"
    addresses = {channel.get("address") for channel in document["channels"].values()}
    assert set(ENDPOINT_PATHS) <= addresses, f"channels {addresses} lack some of {ENDPOINT_PATHS}"


@case("pages.asyncapi_yaml", requires=("pages",))
async def asyncapi_yaml(ctx: CaseContext) -> None:
    """``GET path.yaml`` is the same document as ``application/yaml``; without PyYAML, a 404 naming the extra."""
    reply = await ctx.http("GET", f"{ASYNCAPI_PATH}.yaml")
    yaml = _yaml()
    if yaml is None:
        assert reply.status == 404, f"PyYAML is not installed here: expected 404, got {reply.status}"
        assert 'pip install "pyfly-ws[yaml]"' in reply.body.decode(), reply.body
        return
    assert reply.status == 200, f"PyYAML is installed: expected 200, got {reply.status} {reply.body[:200]!r}"
    assert reply.headers.get("content-type") == "application/yaml", reply.headers
    assert yaml.safe_load(reply.body) == await _document(ctx)


@case("pages.asyncapi_html", requires=("pages",))
async def asyncapi_html(ctx: CaseContext) -> None:
    """``GET path`` is an HTML page showing every channel's address, loading nothing from anywhere else."""
    reply = await ctx.http("GET", ASYNCAPI_PATH)
    assert reply.status == 200, f"expected 200, got {reply.status}"
    assert reply.headers.get("content-type") == "text/html; charset=utf-8", reply.headers
    assert "default-src 'none'" in reply.headers.get("content-security-policy", ""), reply.headers
    text = reply.body.decode()
    assert text.lstrip().lower().startswith("<!doctype html>"), text[:100]
    for path in ENDPOINT_PATHS:
        assert path in text, f"the page does not show the channel {path}"
    assert "<script" not in text and " src=" not in text and "@import" not in text, "the page loads something"


@case("pages.head", requires=("pages",))
async def head(ctx: CaseContext) -> None:
    """``HEAD`` gets the headers of ``GET`` (its content type and length) and no body."""
    for path in (ASYNCAPI_PATH, f"{ASYNCAPI_PATH}.json"):
        got = await ctx.http("GET", path)
        reply = await ctx.http("HEAD", path)
        assert reply.status == 200, f"HEAD {path}: expected 200, got {reply.status}"
        assert reply.body == b"", f"HEAD {path}: a body of {len(reply.body)} bytes"
        assert reply.headers.get("content-type") == got.headers.get("content-type"), reply.headers
        assert reply.headers.get("content-length") in (None, str(len(got.body))), reply.headers


@case("pages.method_not_allowed", requires=("pages",))
async def method_not_allowed(ctx: CaseContext) -> None:
    """Any method but ``GET`` and ``HEAD`` gets 405 with ``Allow: GET, HEAD``, guarded page or not."""
    for method, path in (("POST", ASYNCAPI_PATH), ("PUT", f"{ASYNCAPI_PATH}.json"), ("DELETE", GUARDED_PATH)):
        reply = await ctx.http(method, path)
        assert reply.status == 405, f"{method} {path}: expected 405, got {reply.status}"
        assert reply.headers.get("allow") == "GET, HEAD", f"{method} {path}: {reply.headers}"


@case("pages.guarded", requires=("pages",))
async def guarded(ctx: CaseContext) -> None:
    """A page's guard runs on every request: its ``Reject`` status and reason, or the page once it lets it through."""
    for path in (GUARDED_PATH, f"{GUARDED_PATH}.json"):
        refused = await ctx.http("GET", path)
        assert refused.status == 401, f"GET {path} without the key: expected 401, got {refused.status}"
        assert "a page key is needed" in refused.body.decode(), refused.body
        assert (await ctx.http("HEAD", path)).status == 401
        allowed = await ctx.http("GET", path, [("x-page-key", PAGE_KEY)])
        assert allowed.status == 200, f"GET {path} with the key: expected 200, got {allowed.status}"
    allowed = await ctx.http("GET", f"{GUARDED_PATH}.json", [("x-page-key", PAGE_KEY)])
    assert json.loads(allowed.body) == await _document(ctx)


@case("pages.websocket_refused", requires=("pages",))
async def websocket_refused(ctx: CaseContext) -> None:
    """A WebSocket handshake at a page's path is refused (HTTP 403) like any path no endpoint serves."""
    await expect_refused(ctx, ASYNCAPI_PATH)
    async with ctx.connect("/pages/ws/echo") as ws:  # the endpoints beside the pages still serve
        await ws.send_text("still here")
        assert await ws.receive_text() == "still here"
