"""``create_app(..., asyncapi=...)`` and the pages behind it, on the framework-free ``asgi`` adapter.

The same answers on every other adapter are the conformance kit's ``pages`` cases and
``tests/integration/test_pages.py``.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import sys
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from pyfly_ws import (
    AsyncAPI,
    Capabilities,
    ConfigurationError,
    Endpoint,
    HandshakeView,
    Reject,
    WebSocketSession,
    create_app,
    rest_controller,
    websocket_mapping,
)
from pyfly_ws.adapter import HTTPAnswer, Page, pages_beside
from pyfly_ws.asgi import PyflyASGIApp
from pyfly_ws.asyncapi.attached import document_of
from pyfly_ws.asyncapi.pages import YAML_MISSING
from pyfly_ws.discovery.pages import pages_of
from tests.support.run_command import pyfly_ws_run

pytestmark = pytest.mark.anyio


@rest_controller
class Rooms:
    @websocket_mapping("/ws/rooms/{room}")
    async def room(self, session: WebSocketSession) -> None:
        await session.accept()


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def key_guard(view: HandshakeView) -> None:
    if view.headers.get("x-key") != "k" and view.query_params.get("key") != "k":
        raise Reject(401, "no key")


async def test_the_page_and_both_documents_are_served() -> None:
    app = create_app(Rooms, "asgi", asyncapi="/asyncapi")
    document = document_of(app)
    assert document is not None and document["asyncapi"] == "3.0.0"
    async with client(app) as http:
        page = await http.get("/asyncapi")
        as_json = await http.get("/asyncapi.json")
        as_yaml = await http.get("/asyncapi.yaml")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert "/ws/rooms/{room}" in page.text and page.text.startswith("<!doctype html>")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert as_json.status_code == 200 and as_json.headers["content-type"] == "application/json"
    assert json.loads(as_json.content) == document
    yaml = pytest.importorskip("yaml")
    assert as_yaml.status_code == 200 and as_yaml.headers["content-type"] == "application/yaml"
    assert yaml.safe_load(as_yaml.content) == document
    assert pages_of(app) == ["/asyncapi", "/asyncapi.json", "/asyncapi.yaml"]


async def test_without_pyyaml_the_yaml_path_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # `import yaml` fails, as where PyYAML is not installed
    app = create_app(Rooms, "asgi", asyncapi=AsyncAPI(path="/docs/asyncapi"))
    async with client(app) as http:
        reply = await http.get("/docs/asyncapi.yaml")
        assert (await http.get("/docs/asyncapi.json")).status_code == 200
    assert reply.status_code == 404
    assert reply.text == YAML_MISSING and 'pip install "pyfly-ws[yaml]"' in reply.text
    assert pages_of(app) == ["/docs/asyncapi", "/docs/asyncapi.json"]  # what `pyfly-ws run` lists: pages that answer


async def test_off_by_default() -> None:
    app = create_app(Rooms, "asgi")
    async with client(app) as http:
        assert (await http.get("/asyncapi")).status_code == 404
        assert (await http.get("/asyncapi.json")).status_code == 404
    assert document_of(app) is None and pages_of(app) == []


async def test_head_has_no_body_and_other_methods_get_405() -> None:
    app = create_app(Rooms, "asgi", asyncapi="/asyncapi")
    async with client(app) as http:
        got = await http.get("/asyncapi.json")
        head = await http.head("/asyncapi.json")
        posted = await http.post("/asyncapi", content=b"x")
        options = await http.options("/asyncapi.yaml")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
    assert head.headers["content-type"] == got.headers["content-type"]
    for refused in (posted, options):
        assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD"


async def test_the_guards_run_on_every_page(caplog: pytest.LogCaptureFixture) -> None:
    async def async_guard(view: HandshakeView) -> None:
        if view.path.endswith(".yaml"):
            raise RuntimeError("broken guard")

    app = create_app(Rooms, "asgi", asyncapi=AsyncAPI(guards=[key_guard, async_guard]))
    caplog.set_level(logging.INFO, "pyfly_ws")
    async with client(app) as http:
        for path in ("/asyncapi", "/asyncapi.json", "/asyncapi.yaml"):
            refused = await http.get(path)
            assert (refused.status_code, refused.text) == (401, "no key\n"), path
        assert (await http.get("/asyncapi.json", headers={"x-key": "k"})).status_code == 200
        assert (await http.get("/asyncapi?key=k")).status_code == 200
        broken = await http.get("/asyncapi.yaml", headers={"x-key": "k"})
    assert broken.status_code == 403
    assert any(r.levelname == "INFO" and "no key" in r.getMessage() for r in caplog.records)
    assert any(r.levelname == "WARNING" and "raised" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_pages_given_by_the_application_are_served_beside() -> None:
    page = Page("/health", HTTPAnswer(200, "ok\n"))
    app = create_app(Rooms, "asgi", asyncapi="/asyncapi", pages=[page])
    async with client(app) as http:
        assert (await http.get("/health")).text == "ok\n"
        assert (await http.get("/asyncapi.json")).status_code == 200
    assert pages_of(app)[0] == "/health"


class NoPages:
    """An adapter whose capabilities lack ``pages``."""

    name = "nopages"
    capabilities = Capabilities()

    def create_app(self, endpoints: Sequence[Endpoint], **options: Any) -> Any:
        return PyflyASGIApp(endpoints)


def test_an_adapter_that_serves_no_pages_is_refused_naming_it_and_the_flag() -> None:
    with pytest.raises(ConfigurationError, match=r"the 'nopages' adapter's capabilities lack 'pages'"):
        create_app(Rooms, NoPages(), asyncapi="/asyncapi")
    with pytest.raises(ConfigurationError, match=r"pages= needs .*'nopages'"):
        create_app(Rooms, NoPages(), pages=[Page("/x", HTTPAnswer(200, ""))])
    with pytest.raises(ConfigurationError, match=r"metrics= needs .*'nopages'"):
        create_app(Rooms, NoPages(), metrics="/metrics")


@rest_controller
class Clash:
    @websocket_mapping("/ws/rooms.json")
    async def rooms(self, session: WebSocketSession) -> None:
        await session.accept()


@pytest.mark.parametrize(
    ("asyncapi", "message"),
    [
        ("/ws/rooms", "the page at '/ws/rooms.json' clashes with the endpoint Clash.rooms at '/ws/rooms.json'"),
        ("asyncapi", "must be a literal path starting with '/'"),
        ("/asyncapi/", "not ending with one"),
        ("/api/{version}", "literal path"),
    ],
)
def test_a_path_that_cannot_be_served_is_refused(asyncapi: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        create_app(Clash, "asgi", asyncapi=asyncapi)


def test_two_pages_at_one_path_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="two pages at '/asyncapi'"):
        create_app(Rooms, "asgi", asyncapi="/asyncapi", pages=[Page("/asyncapi", HTTPAnswer(200, ""))])
    with pytest.raises(ConfigurationError, match=r"takes pyfly_ws\.adapter\.Page objects"):
        pages_beside([], ["/asyncapi"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="a literal path"):
        Page("/rooms/{room}", HTTPAnswer(200, ""))


def test_a_page_where_an_endpoint_template_matches_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"clashes with the endpoint Rooms\.room"):
        create_app(Rooms, "asgi", pages=[Page("/ws/rooms/lobby", HTTPAnswer(200, ""))])


def test_pyfly_ws_run_lists_the_asyncapi_pages() -> None:
    with pyfly_ws_run(["examples.chat", "--port", "0"]) as proc:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)
    base = lines[0].split(" at ")[1].strip()
    listed = [line.split()[0] for line in lines[1:]]
    assert listed[0] == f"{base}/"  # the chat page
    assert listed[1:3] == [f"{base}/asyncapi", f"{base}/asyncapi.json"]
    assert lines[1].rstrip().endswith("(open in a browser)")
