"""The connection lifecycle shared by every adapter, and the close-code contract.

| outcome                                  | the client sees     | logged            |
| ---------------------------------------- | ------------------- | ----------------- |
| handler returns after accept             | close 1000          | nothing           |
| peer disconnects (uncaught)              | normal end          | DEBUG             |
| handler raises after accept              | close 1011          | WARNING + trace   |
| handler raises / returns before accept   | handshake refused   | WARNING if raised |
| uncaught MessageTypeError / InvalidPayloadError | close 1003 / 1007 | INFO       |
| controller cannot be resolved            | handshake refused   | ERROR + trace     |
| ``on_disconnect`` raises                 | nothing changes     | WARNING + trace   |
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio

from .close_codes import CloseCode
from .connection import Connection
from .exceptions import ProtocolCloseError, WebSocketDisconnect
from .session import WebSocketSession

if TYPE_CHECKING:
    from .endpoint import Endpoint

__all__ = ["ON_DISCONNECT_TIMEOUT", "logger", "refuse", "run_session"]

logger = logging.getLogger("pyfly_ws")

ON_DISCONNECT_TIMEOUT = 10.0
"""Seconds ``on_disconnect`` may take, shielded from anyio cancel scopes, before it is abandoned."""


async def refuse(endpoint: Endpoint | None, connection: Connection, why: str) -> None:
    """Refuse a handshake (HTTP 403) without running a handler."""
    logger.debug("refusing WebSocket handshake for %s: %s", connection.handshake.path, why)
    await _quiet_close(connection, CloseCode.POLICY_VIOLATION, "")


async def run_session(endpoint: Endpoint, connection: Connection, path_params: Mapping[str, Any]) -> None:
    """Serve one connection: resolve the controller, run the handler, map the outcome."""
    try:
        controller = await endpoint.resolver.get()
        handler = getattr(controller, endpoint.method)
    except Exception:
        logger.error("cannot resolve controller %s for %s", endpoint.qualname, endpoint.path, exc_info=True)
        await _quiet_close(connection, CloseCode.INTERNAL_ERROR, "")
        return
    session = WebSocketSession(connection, path_params)
    try:
        await handler(session)
    except WebSocketDisconnect as exc:
        logger.debug("%s: ended by disconnect, code %s", endpoint.qualname, exc.code)
        await _close_session(session, CloseCode.NORMAL, "")
    except ProtocolCloseError as exc:
        logger.info("%s: closing with %s: %s", endpoint.qualname, exc.close_code, exc)
        await _close_session(session, exc.close_code, _reason(str(exc)))
    except Exception:
        if session.accepted:
            logger.warning(
                "WebSocket handler %s (%s) raised; closing with 1011", endpoint.qualname, endpoint.path, exc_info=True
            )
            await _close_session(session, CloseCode.INTERNAL_ERROR, "")
        else:
            logger.warning(
                "WebSocket handler %s (%s) raised before accept; refusing the handshake",
                endpoint.qualname,
                endpoint.path,
                exc_info=True,
            )
            await _close_session(session, CloseCode.POLICY_VIOLATION, "")
    else:
        await _close_session(session, CloseCode.NORMAL if session.accepted else CloseCode.POLICY_VIOLATION, "")
    finally:
        if session.accepted:
            await _on_disconnect(endpoint, controller, session)


async def _close_session(session: WebSocketSession, code: int, reason: str) -> None:
    if session.closed:
        return
    try:
        await session.close(code, reason)
    except Exception:
        logger.debug("closing %s failed", session.path, exc_info=True)


async def _quiet_close(connection: Connection, code: int, reason: str) -> None:
    try:
        await connection.close(code, reason)
    except Exception:
        logger.debug("closing %s failed", connection.handshake.path, exc_info=True)


async def _on_disconnect(endpoint: Endpoint, controller: Any, session: WebSocketSession) -> None:
    hook = getattr(controller, "on_disconnect", None)
    if hook is None:
        return
    with anyio.move_on_after(ON_DISCONNECT_TIMEOUT, shield=True) as scope:
        try:
            result = hook(session)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.warning("on_disconnect of %s raised", endpoint.qualname, exc_info=True)
    if scope.cancelled_caught:
        logger.warning("on_disconnect of %s took over %ss; abandoned", endpoint.qualname, ON_DISCONNECT_TIMEOUT)


def _reason(text: str) -> str:
    """Trim a message to a valid close reason (at most 123 bytes of UTF-8)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= 123:
        return text
    return encoded[:120].decode("utf-8", "ignore") + "..."
