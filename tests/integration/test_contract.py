"""The close-code contract and handshake facts, identical on every adapter behind real uvicorn."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from pyfly_ws import create_app
from tests.integration.contract_app import ContractController
from tests.support.server import serve
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio


@pytest.fixture
def server(adapter_name: str) -> Iterator[tuple[str, ContractController]]:
    controller = ContractController()

    class Source:
        def controllers(self) -> list[type]:
            return [ContractController]

        def resolve(self, cls: type) -> Any:
            return controller

    with serve(create_app(Source(), adapter_name)) as base:
        yield base, controller


async def close_of(url: str, send: str | bytes | None = None) -> tuple[int, str]:
    async with connect(url) as ws:
        if send is not None:
            await ws.send(send)
        with anyio.fail_after(5):
            await ws.wait_closed()
        assert ws.close_code is not None
        return ws.close_code, ws.close_reason or ""


async def test_normal_return_closes_1000(server: tuple[str, ContractController]) -> None:
    assert await close_of(server[0] + "/c/returns") == (1000, "")


async def test_handler_error_closes_1011_and_warns(
    server: tuple[str, ContractController], caplog: pytest.LogCaptureFixture
) -> None:
    assert (await close_of(server[0] + "/c/raises"))[0] == 1011
    warnings = [r for r in caplog.records if r.name == "pyfly_ws" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "ContractController.raises" in warnings[0].getMessage()
    assert warnings[0].exc_info is not None


@pytest.mark.parametrize("path", ["/c/raises-early", "/c/refuses", "/c/nowhere", "/c/facts/a/not-int/1/x/y"])
async def test_refusals_are_http_403(server: tuple[str, ContractController], path: str) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with connect(server[0] + path):
            pass
    assert info.value.response.status_code == 403


@pytest.mark.parametrize(("path", "message", "code"), [("/c/wants-text", b"x", 1003), ("/c/wants-json", "{no", 1007)])
async def test_wrong_payloads_close_with_their_codes(
    server: tuple[str, ContractController], path: str, message: str | bytes, code: int
) -> None:
    assert (await close_of(server[0] + path, message))[0] == code


async def test_server_close_code_and_reason(server: tuple[str, ContractController]) -> None:
    assert await close_of(server[0] + "/c/closes") == (4001, "see you")


async def test_client_close_reaches_handler_and_on_disconnect_once(server: tuple[str, ContractController]) -> None:
    base, controller = server
    async with connect(base + "/c/peer-close") as ws:
        await ws.close(4002, "client done")
    await eventually(lambda: bool(controller.disconnects))
    await anyio.sleep(0.1)  # a second, wrong call would land here
    assert len(controller.disconnects) == 1
    kind, code, *reason = controller.disconnects[0].split(" ")
    assert kind == "WebSocketDisconnect"
    assert code in {"4002", "1005"}  # 1005 only where the framework hides the peer's code
    if code == "4002":
        assert " ".join(reason) == "client done"


async def test_abrupt_drop_ends_the_handler(server: tuple[str, ContractController]) -> None:
    base, controller = server
    async with connect(base + "/c/waits") as ws:
        assert await ws.recv() == "ready"
        ws.transport.abort()
    await eventually(lambda: "/c/waits" in controller.disconnects)


async def test_handshake_facts_and_typed_params(server: tuple[str, ContractController]) -> None:
    rid = uuid.uuid4()
    url = f"{server[0]}/c/facts/caf%C3%A9/-7/2.5/{rid}/a/b/c?q=1&q=%20two"
    offered = [Subprotocol("v1"), Subprotocol("v2")]
    async with connect(url, subprotocols=offered, additional_headers={"X-Custom": "hello"}) as ws:
        report = json.loads(await ws.recv())
        assert ws.subprotocol == "v2"
        assert ws.response is not None
        assert ws.response.headers["x-served"] == "yes"
    assert report == {
        "params": {
            "name": ["str", "café"],
            "n": ["int", "-7"],
            "x": ["float", "2.5"],
            "u": ["UUID", str(rid)],
            "rest": ["str", "a/b/c"],
        },
        "query": ["1", " two"],
        "header": "hello",
        "client_host": "127.0.0.1",
        "subprotocols": ["v1", "v2"],
        "path": f"/c/facts/café/-7/2.5/{rid}/a/b/c",
    }
