"""The limit beside the native transport: the benchmark's ``/echo`` written directly on picows, on uvloop.

    python -m bench.targets.picows_raw --port 8000

Nothing but picows: each text frame is sent back as it came. The ``/room``
endpoint of the other targets is not served (the broadcast figures skip this
target), and every other path gets picows's own 404.
"""

from __future__ import annotations

import argparse

from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server


class Echo(WSListener):
    """Sends every text or binary message back; answers a close frame with one."""

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is WSMsgType.TEXT or kind is WSMsgType.BINARY:
            transport.send(kind, frame.get_payload_as_memoryview())
        elif kind is WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()


def route(request: WSUpgradeRequest) -> Echo | None:
    """``/echo`` gets an echo; anything else picows's 404."""
    return Echo() if request.path == b"/echo" else None


async def main(host: str, port: int) -> None:
    server = await ws_create_server(route, host, port)
    await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    import uvloop

    uvloop.run(main(args.host, args.port))
