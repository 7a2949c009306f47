"""The native transport from the built wheel: ``python wheel_native.py alone`` (no extra) or ``... extra`` ([picows]).

``alone``: importing it names the extra to install. ``extra``: an application served
with ``pyfly_ws.native.serve`` in a child process answers an echo (through picows's own
client: nothing else is installed), and stops with status 0 on SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time

SERVER = """
import sys
from pyfly_ws import WebSocketSession, create_app, rest_controller, websocket_mapping
from pyfly_ws.native import serve

@rest_controller
class Echo:
    @websocket_mapping("/echo")
    async def echo(self, session: WebSocketSession) -> None:
        await session.accept()
        async for text in session.iter_text():
            await session.send_text(text)

serve(create_app(Echo), "127.0.0.1", int(sys.argv[1]))
"""


def alone() -> None:
    from pyfly_ws import ConfigurationError

    try:
        import pyfly_ws.native  # noqa: F401
    except ConfigurationError as exc:
        message = str(exc)
    else:
        raise AssertionError("pyfly_ws.native imported without picows installed")
    if 'pip install "pyfly-ws[picows]"' not in message:
        raise AssertionError(f"the error does not name the extra: {message}")
    print(f"without the extra: {message}")


async def _echo(port: int) -> str:
    from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

    loop = asyncio.get_running_loop()
    got: asyncio.Future[str] = loop.create_future()

    class Client(WSListener):
        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type is WSMsgType.TEXT and not got.done():
                got.set_result(frame.get_payload_as_utf8_text())

    transport, _ = await ws_connect(Client, f"ws://127.0.0.1:{port}/echo")
    transport.send(WSMsgType.TEXT, b"from the wheel")
    try:
        return await asyncio.wait_for(got, 10)
    finally:
        transport.disconnect()


def extra() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the native server did not start (exit status {server.poll()})") from None
                time.sleep(0.05)
        answer = asyncio.run(_echo(port))
        assert answer == "from the wheel", answer
        server.send_signal(signal.SIGTERM)
        assert server.wait(15) == 0, server.returncode
        print("with [picows]: served an echo from the wheel and stopped on SIGTERM")
    finally:
        server.kill()


if __name__ == "__main__":
    {"alone": alone, "extra": extra}[sys.argv[1]]()
