"""How the chat signs its members in: a name gets a short-lived token, which the page keeps fresh.

==============================  ===================================================================
``POST /login``                 ``{"name": "ann"}`` (JSON, at most 1 KiB) is answered ``{"token",
                                "name", "expires_at"}``: a JWT (HS256) whose ``sub`` is a new member id
                                and whose ``name`` claim is the name, trimmed to 40 characters
``POST /token``                 with ``Authorization: Bearer <a token still valid>``: a fresh token for
                                the same member (the page asks when it gets ``auth.expiring``)
the WebSocket                   ``new WebSocket(url, ["chat.v1", "bearer." + token])``: accepted with
                                ``chat.v1``; the token is never echoed, and never in the URL
==============================  ===================================================================

A bad request is answered 400 (413 when too long), a bad or expired token 401, another method 405;
each answer is JSON ``{"error": "..."}``. There is no password: this shows how a token reaches a
WebSocket and stays valid while the socket lives, not how to check who someone is.

Every process that serves the same rooms must sign with the same secret: set
``PYFLY_WS_CHAT_SECRET`` (32 characters or more). Without it, a process signs with a random
secret of its own, which suits one process only.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from typing import Any

from pyfly_ws import Clock, InvalidToken, Principal
from pyfly_ws.adapter import Receive, Scope, Send
from pyfly_ws.auth import JWTVerifier, SubprotocolToken
from pyfly_ws.clock import SYSTEM_CLOCK

SECRET_ENV = "PYFLY_WS_CHAT_SECRET"
"""The secret every chat process signs its tokens with."""
TTL_ENV = "PYFLY_WS_CHAT_TOKEN_TTL"
"""Seconds a token is valid for (900 when unset)."""
PROTOCOL = "chat.v1"
"""The subprotocol the page offers beside its token."""
AUDIENCE = "pyfly-ws-chat"
MAX_BODY = 1024
"""The longest request body ``/login`` and ``/token`` read, in bytes."""
MAX_NAME = 40


class SignIn:
    """Issues the chat's tokens (``POST /login``, ``POST /token``) and verifies them at the handshake."""

    def __init__(self, secret: str, *, ttl: float = 900.0, clock: Clock = SYSTEM_CLOCK) -> None:
        if not isinstance(secret, str) or len(secret) < 32:
            raise ValueError(f"{SECRET_ENV} is a secret of 32 characters or more")
        if not ttl > 0:
            raise ValueError(f"a token lives for a positive number of seconds, got {ttl!r}")
        self._secret, self.ttl, self._clock = secret, float(ttl), clock
        self.verify = JWTVerifier(key=secret, algorithms=["HS256"], audience=AUDIENCE, require=["exp"], clock=clock)
        self.authenticator = SubprotocolToken(self.verify, protocols=[PROTOCOL])
        """What the chat's endpoint declares: the token offered as ``bearer.<token>`` beside ``chat.v1``."""

    @classmethod
    def from_env(cls, *, shared: bool) -> SignIn:
        """The sign-in :data:`SECRET_ENV` and :data:`TTL_ENV` configure; ``shared``: other processes serve the
        same rooms, so a random secret would not do."""
        secret = os.environ.get(SECRET_ENV)
        if not secret:
            if shared:
                raise SystemExit(f"chat: set {SECRET_ENV} to the same secret on every process that shares the rooms")
            secret = secrets.token_urlsafe(32)
        ttl = os.environ.get(TTL_ENV)
        return cls(secret, ttl=float(ttl) if ttl else 900.0)

    def issue(self, name: str, member: str | None = None) -> dict[str, Any]:
        """A token for ``name`` (a new member id unless ``member`` is given), with the name and its expiry."""
        import jwt

        name = name.strip()[:MAX_NAME]
        if not name:
            raise ValueError("the name is blank")
        expires_at = int(self._clock.time() + self.ttl)
        claims = {"sub": member or f"m-{uuid.uuid4().hex[:12]}", "name": name, "aud": AUDIENCE, "exp": expires_at}
        return {"token": jwt.encode(claims, self._secret, algorithm="HS256"), "name": name, "expires_at": expires_at}

    async def renew(self, token: str) -> dict[str, Any]:
        """A fresh token for the member of ``token``, which must still be valid (else :class:`InvalidToken`)."""
        principal: Principal = await self.verify(token)
        return self.issue(str(principal.claims.get("name", "")) or "anonymous", principal.identity)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI application of ``POST /login`` and ``POST /token``."""
        if scope["method"] != "POST":
            await _answer(send, 405, {"error": "use POST"}, ((b"allow", b"POST"),))
            return
        body = await _body(receive)
        if body is None:
            await _answer(send, 413, {"error": f"the body is longer than {MAX_BODY} bytes"})
            return
        if scope["path"] == "/token":
            scheme, _, token = _header(scope, b"authorization").partition(" ")
            if scheme.lower() != "bearer" or not token:
                await _answer(send, 401, {"error": "send Authorization: Bearer <token>"})
                return
            try:
                await _answer(send, 200, await self.renew(token))
            except InvalidToken as refusal:
                await _answer(send, 401, {"error": refusal.reason})
            return
        try:
            name = json.loads(body)["name"]
            if not isinstance(name, str):
                raise TypeError
            await _answer(send, 200, self.issue(name))
        except (ValueError, KeyError, TypeError):
            await _answer(send, 400, {"error": 'send {"name": "..."}, a name that is not blank'})


async def _body(receive: Receive) -> bytes | None:
    """The request's body, ``None`` once it is longer than :data:`MAX_BODY` (the rest is not read)."""
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return body
        body += bytes(message.get("body", b""))
        if len(body) > MAX_BODY:
            return None
        if not message.get("more_body", False):
            return body


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


async def _answer(send: Send, status: int, data: dict[str, Any], extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = json.dumps(data).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
