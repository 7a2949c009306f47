"""The core needs no web framework: it imports and serves with frameworks blocked."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.core.test_config import BLOCKER

SERVE_WITHOUT_FRAMEWORKS = BLOCKER + textwrap.dedent(
    """
    import asyncio, sys
    import pyfly_ws
    from pyfly_ws import create_app
    from examples.echo import EchoController

    app = create_app(EchoController)  # the default, framework-free asgi adapter
    sent = []
    incoming = [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": "hi"},
                {"type": "websocket.disconnect", "code": 1000}]

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "websocket", "path": "/ws/echo", "query_string": b"", "headers": [], "subprotocols": []}
    asyncio.run(app(scope, receive, send))
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send"], sent
    assert sent[1]["text"] == "hi"
    loaded = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
    assert not loaded, loaded
    print("ok")
    """
)


def test_core_serves_with_every_framework_blocked() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SERVE_WITHOUT_FRAMEWORKS], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
