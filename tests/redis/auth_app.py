"""The app the revocation test serves in several processes: who you are is the token's first part.

``HUB_REDIS_URL`` names the Redis the processes' hubs share.
"""

from __future__ import annotations

import os

from pyfly_ws import Principal, WebSocketSession, create_app, rest_controller, websocket_mapping
from pyfly_ws.auth import HeaderToken, InvalidToken
from pyfly_ws.hub import Hub, RedisBackend

HUB = Hub(RedisBackend(os.environ["HUB_REDIS_URL"]))


def verify(token: str) -> Principal:
    identity, dot, _ = token.partition(".")
    if not dot or not identity:
        raise InvalidToken("not identity.secret")
    return Principal(identity)


@rest_controller
class Signed:
    @websocket_mapping("/ws", authenticator=HeaderToken(verify))
    async def serve(self, session: WebSocketSession) -> None:
        await session.accept()
        assert session.principal is not None
        await session.send_text(f"hello {session.principal.identity} {os.getpid()}")
        async for text in session.iter_text():
            await session.send_text(text)


app = create_app(Signed, services=[HUB])
