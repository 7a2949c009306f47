"""Run by the ``wheel`` session, from the installed wheel: telemetry with no extra, and with its extras alone.

``alone`` (pyfly-ws and pytest only): ``telemetry=`` names the ``otel`` extra, the Prometheus page
answers 404 naming ``prometheus``, and an application without either imports neither.
``extras`` (``pyfly-ws[otel,prometheus]``, no SDK, as a library's user has before configuring one):
telemetry runs on the API's no-op providers, and the Prometheus page counts the session's messages.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from wheel_messages import Hello, get  # type: ignore[import-not-found]  # run by path, beside it

import pyfly_ws
from pyfly_ws import MissingDependencyError, Telemetry, create_app
from pyfly_ws.testing import ASGIClient


async def greet_twice(app: Any) -> None:
    async with ASGIClient(app) as client, client.connect("/hello") as ws:
        for n in (1, 2):
            await ws.send_json({"type": "greet", "id": n, "data": {"name": "Ada"}})
            assert await ws.receive_json() == {"type": "reply", "id": n, "data": "hello, Ada"}


async def alone() -> None:
    await greet_twice(create_app(Hello))
    loaded = sorted(name for name in sys.modules if name.partition(".")[0] in ("opentelemetry", "prometheus_client"))
    assert not loaded, loaded
    message = ""
    try:
        create_app(Hello, telemetry=Telemetry())
    except MissingDependencyError as exc:
        message = str(exc)
    assert 'pip install "pyfly-ws[otel]"' in message, message
    status, body = await get(create_app(Hello, metrics="/metrics"), "/metrics")
    assert status == 404 and b'pip install "pyfly-ws[prometheus]"' in body, (status, body)
    print("without extras, telemetry and the Prometheus page name theirs")


async def extras() -> None:
    app = create_app(Hello, telemetry=Telemetry(message_spans=True), metrics="/metrics")
    await greet_twice(app)
    status, body = await get(app, "/metrics")
    assert status == 200, (status, body)
    wanted = b'pyfly_ws_messages_total{direction="in",endpoint="/hello",message_type="greet"} 2.0'
    assert wanted in body, body.decode()
    assert "opentelemetry.sdk" not in sys.modules
    print("with pyfly-ws[otel,prometheus] and no SDK, telemetry runs and the Prometheus page counts")


if __name__ == "__main__":
    assert "site-packages" in pyfly_ws.__file__, pyfly_ws.__file__
    asyncio.run({"alone": alone, "extras": extras}[sys.argv[1]]())
