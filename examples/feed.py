"""Feed: JSON in, JSON out. Each message is acknowledged with a running sequence number.

    pyfly-ws run examples.feed          # ws://127.0.0.1:8000/ws/feed

Send ``{"subscribe": "prices"}`` and receive ``{"seq": 1, "received": {...}}``.
A message that is not JSON closes the connection with 1007 (invalid payload).
Add ``?mode=binary`` to exchange JSON in binary frames instead of text.
"""

from __future__ import annotations

from pyfly_ws import (
    JSONMode,
    WebSocketSession,
    handshake_schema,
    request_mapping,
    rest_controller,
    websocket_mapping,
)


@rest_controller
@request_mapping("/ws")
class FeedController:
    """Acknowledges every JSON message in the same framing the client chose."""

    @websocket_mapping("/feed")
    @handshake_schema(query={"mode": {"enum": ["text", "binary"], "description": "`binary`: JSON in binary frames."}})
    async def feed(self, session: WebSocketSession) -> None:
        mode: JSONMode = "binary" if session.query_params.get("mode") == "binary" else "text"
        await session.accept()
        seq = 0
        async for message in session.iter_json(mode):
            seq += 1
            await session.send_json({"seq": seq, "received": message}, mode=mode)
