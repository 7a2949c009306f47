"""Controllers that exercise the close-code contract and handshake facts on a real server."""

from __future__ import annotations

from typing import Any

from pyfly_ws import WebSocketSession, request_mapping, rest_controller, websocket_mapping


@rest_controller
@request_mapping("/c")
class ContractController:
    """One endpoint per row of the close-code contract, plus a handshake report."""

    def __init__(self) -> None:
        self.disconnects: list[str] = []

    @websocket_mapping("/returns")
    async def returns(self, session: WebSocketSession) -> None:
        await session.accept()

    @websocket_mapping("/waits")
    async def waits(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("ready")
        await session.receive()

    @websocket_mapping("/raises")
    async def raises(self, session: WebSocketSession) -> None:
        await session.accept()
        raise RuntimeError("handler bug")

    @websocket_mapping("/raises-early")
    async def raises_early(self, session: WebSocketSession) -> None:
        raise RuntimeError("bug before accept")

    @websocket_mapping("/refuses")
    async def refuses(self, session: WebSocketSession) -> None:
        await session.close()

    @websocket_mapping("/wants-text")
    async def wants_text(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.receive_text()

    @websocket_mapping("/wants-json")
    async def wants_json(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.receive_json()

    @websocket_mapping("/closes")
    async def closes(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.close(4001, "see you")

    @websocket_mapping("/peer-close")
    async def peer_close(self, session: WebSocketSession) -> None:
        await session.accept()
        try:
            await session.receive()
        except Exception as exc:
            session.state["ended"] = f"{type(exc).__name__} {getattr(exc, 'code', '')} {getattr(exc, 'reason', '')}"
            raise

    @websocket_mapping("/facts/{name}/{n:int}/{x:float}/{u:uuid}/{rest:path}")
    async def facts(self, session: WebSocketSession) -> None:
        await session.accept(subprotocol="v2" if "v2" in session.subprotocols else None, headers={"x-served": "yes"})
        report: dict[str, Any] = {
            "params": {k: [type(v).__name__, str(v)] for k, v in session.path_params.items()},
            "query": session.query_params.getlist("q"),
            "header": session.headers.get("X-Custom"),
            "client_host": session.client[0] if session.client else None,
            "subprotocols": list(session.subprotocols),
            "path": session.path,
        }
        await session.send_json(report)

    def on_disconnect(self, session: WebSocketSession) -> None:
        self.disconnects.append(session.state.get("ended", session.path))
