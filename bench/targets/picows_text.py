"""What a text-message API costs on picows at the least: the echo of :mod:`bench.targets.picows_raw`, as ``str``.

    python -m bench.targets.picows_text --port 8000 --way callback
    python -m bench.targets.picows_text --port 8000 --way task

A text message handed to an application as ``str`` has to be checked and
decoded as UTF-8 (RFC 6455, 8.1), and the ``str`` it replies with encoded
again; the raw echo does neither, sending back the frame's bytes unchecked.

- ``callback``: each text frame decoded, and the ``str`` sent back, inside
  picows's own callback: the decode and encode, and nothing else;
- ``task``: each decoded message handed through a future to a task of the
  connection's own, which sends it back: the least that serving a session as
  a coroutine (``async for text in session.iter_text()``) adds to that.

Neither checks anything else RFC 6455 asks (fragments, reserved bits, close
codes): these are floors to set pyfly-ws's native transport beside, not servers.
"""

from __future__ import annotations

import argparse
import asyncio

from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server


class CallbackEcho(WSListener):
    """Decodes each text message and sends the ``str`` back, in the frame's callback."""

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is WSMsgType.TEXT:
            transport.send(WSMsgType.TEXT, frame.get_payload_as_bytes().decode())
        elif kind is WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()


class TaskEcho(WSListener):
    """Decodes each text message and hands it to the connection's task, which sends the ``str`` back."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.waiter: asyncio.Future[str | None] | None = None
        self.task: asyncio.Task[None] | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.task = self.loop.create_task(self.serve(transport))

    async def serve(self, transport: WSTransport) -> None:
        while True:
            self.waiter = self.loop.create_future()
            text = await self.waiter
            if text is None:
                return
            transport.send(WSMsgType.TEXT, text)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is WSMsgType.TEXT and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(frame.get_payload_as_bytes().decode())
        elif kind is WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


WAYS: dict[str, type[WSListener]] = {"callback": CallbackEcho, "task": TaskEcho}


async def start(host: str, port: int, way: str) -> asyncio.Server:
    """Listen on ``host``:``port`` (``0``: a free one) with the echo ``way`` does at ``/echo``."""
    listener = WAYS[way]

    def route(request: WSUpgradeRequest) -> WSListener | None:
        """``/echo`` gets an echo; anything else picows's 404."""
        return listener() if request.path == b"/echo" else None

    return await ws_create_server(route, host, port)


async def main(host: str, port: int, way: str) -> None:
    server = await start(host, port, way)
    await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--way", choices=sorted(WAYS), default="callback")
    args = parser.parse_args()
    import uvloop

    uvloop.run(main(args.host, args.port, args.way))
