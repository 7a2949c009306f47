"""A query-string token appears in no log line, metric or span: a real server, run at DEBUG, searched whole."""

from __future__ import annotations

import json
import urllib.request

import anyio
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support.redaction_app import SECRET
from tests.support.run_command import free_port, pyfly_ws_run, until_up

pytestmark = pytest.mark.anyio


def page_of(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return bytes(response.read())


async def test_a_query_token_is_in_no_log_line_metric_or_span() -> None:
    port = free_port()
    wrong = "wr0ng-t0ken-1717"
    args = ["tests.support.redaction_app:app", f"--port={port}", "--log-level=debug"]
    with pyfly_ws_run(args) as proc:
        page = until_up(lambda: page_of(f"http://127.0.0.1:{port}/metrics"), proc)
        assert b"pyfly_ws" in page
        base = f"ws://127.0.0.1:{port}/ws"
        async with connect(f"{base}?access_token={SECRET}&lang=en") as ws:
            await ws.send(json.dumps({"type": "echo", "id": 1, "data": "hi"}))
            assert json.loads(await ws.recv()) == {"type": "reply", "id": 1, "data": "hi"}
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{base}?access_token={wrong}"):
                pass
        assert refused.value.response.status_code == 401
        await anyio.sleep(0.3)  # the spans of both handshakes are written
        metrics = (await anyio.to_thread.run_sync(page_of, f"http://127.0.0.1:{port}/metrics")).decode()
        proc.terminate()
        output, _ = proc.communicate(timeout=20)
    assert 'outcome="refused",reason="unauthenticated"' in metrics
    assert "WebSocket /ws?access_token=[redacted]&lang=en" in output  # uvicorn's line, kept, with the value blanked
    assert '"name": "WebSocket /ws"' in output  # the spans were written here
    assert "refused the credentials (401): unknown token" in output
    for text in (output, metrics):
        assert SECRET not in text
        assert wrong not in text
