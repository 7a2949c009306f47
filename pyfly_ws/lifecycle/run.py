"""The connection lifecycle shared by every adapter: admit, resolve, run the handler, map its outcome.

Which close code or HTTP status each outcome gets, and what it logs, is the
close-code contract: :mod:`pyfly_ws.lifecycle.outcomes` holds the whole table,
and the codes this module closes with are named there.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import anyio

from ..close_codes import trim_reason
from ..datastructures import Headers, QueryParams
from ..exceptions import ProtocolCloseError, WebSocketDisconnect
from ..mapping.auth import InvalidToken, Principal
from ..mapping.guards import HandshakeView, Reject, origin_refusal
from ..session.connection import Connection, Denying
from ..session.counted import CountedSession, session_over
from ..session.credentials import Credentials, verified
from ..session.figures import UNKNOWN_ENDPOINT, Figures, Reason
from ..session.session import WebSocketSession, attach_credentials
from ..session.supervision import log_refusal, serving
from ..session.tracing import SessionTrace
from ..session.wire import close_frame_due, closed_by, finish, finish_close, left_open
from .outcomes import DRAINING_STATUS, RAISED, REFUSED, REFUSED_STATUS, RETURNED, UNRESOLVED
from .supervisor import CLOSE_GRACE, Served, Supervisor

__all__ = ["ON_DISCONNECT_TIMEOUT", "deny", "logger", "refuse", "run_session"]

logger = logging.getLogger("pyfly_ws")

ON_DISCONNECT_TIMEOUT = 10.0
"""Seconds ``on_disconnect`` may take, shielded from anyio cancel scopes, before it is abandoned."""


async def refuse(endpoint: Served | None, connection: Connection, why: str, figures: Figures | None = None) -> None:
    """Refuse a handshake (HTTP 403) without running a handler: a path no endpoint (or no parameter) matches.

    ``figures`` counts it for a path no endpoint serves (an endpoint's own are counted by its registry's).
    """
    logger.debug("refusing WebSocket handshake for %s: %s", connection.handshake.path, why)
    if endpoint is not None:
        figures = endpoint.registry.figures
    if figures is not None:
        figures.handshake(UNKNOWN_ENDPOINT if endpoint is None else endpoint.path, "refused", "not_found")
    await _close_connection(connection, REFUSED, "")
    if endpoint is not None and endpoint.registry.tracer is not None:  # the path fits no endpoint's parameter types
        endpoint.registry.tracer.session(endpoint.path, connection.handshake.headers).refused("not_found")


async def run_session(endpoint: Served, connection: Connection, path_params: Mapping[str, Any]) -> None:
    """Serve one connection: admit it, resolve the controller, run the handler, map the outcome.

    This runs once per connection, so the common case (no guard, no ``Origin``
    header, the controller already built, no ``on_disconnect``) takes no call
    it does not need.
    """
    registry = endpoint.registry
    tracer = registry.tracer  # the one question tracing asks of a session when it is off
    trace = None if tracer is None else tracer.session(endpoint.path, connection.handshake.headers)
    if registry._refusing and registry.refuses(endpoint.path):
        logger.info("%s: refused a handshake while draining", endpoint.qualname)
        await deny(connection, DRAINING_STATUS, "server shutting down")
        _refused(endpoint, trace, "drain")
        return
    admitted: tuple[dict[str, Any], Principal | None] | None = None
    policy = endpoint.policy
    checked = bool(policy.guards) or policy.authenticator is not None
    if not checked:
        # Is there an Origin header to check? A loop here, not any(...) or a call: this runs for every handshake.
        for name, _ in connection.handshake.headers:
            if name == b"origin":
                checked = True
                break
    if checked:
        admitted = await _admit(endpoint, connection, path_params, trace)
        if admitted is None:
            return
    try:
        controller = endpoint.resolver.instance
        if controller is None:
            controller = await endpoint.resolver.get()
        dispatcher = endpoint.dispatcher
        handler = getattr(controller, endpoint.method) if dispatcher is None else dispatcher.handler(controller)
    except Exception:
        logger.error("cannot resolve controller %s for %s", endpoint.qualname, endpoint.path, exc_info=True)
        await _close_connection(connection, UNRESOLVED, "")
        _refused(endpoint, trace, "error")
        return
    supervisor = Supervisor(endpoint)
    supervisor.trace = trace
    figures = registry.figures
    if figures is None:
        session = WebSocketSession(connection, path_params, endpoint.policy.limits, supervisor)
    else:  # the application's metrics are on: the same session, counting (session/counted.py)
        session = CountedSession(connection, path_params, endpoint.policy.limits, supervisor, figures, endpoint.path)
    supervisor.session = session
    registry._enter(endpoint.path, supervisor)
    if admitted is not None:
        state, principal = admitted
        if state:
            session.state.update(state)
        if policy.authenticator is not None:
            attach_credentials(session, Credentials(policy.authenticator, registry.clock, principal))
            if principal is not None:
                supervisor.signed_in(principal)
    serving.set(supervisor)  # this task and those it starts are the session's own (see send_text)
    try:
        with supervisor:
            try:
                running = handler(session)
                del handler  # the bound method is not held for as long as the session lives
                await running
            except Exception as exc:
                await _handler_failed(endpoint, session, exc)
                if trace is not None and not isinstance(exc, WebSocketDisconnect | ProtocolCloseError):
                    trace.refused("error")  # ignored if the handshake was accepted: its span has ended
            else:
                if left_open(session):
                    await _close_session(session, RETURNED if session.accepted else REFUSED, "")
        if close_frame_due(session):  # the handler was cut before the close frame could go out
            await _close_session(session, RETURNED, "")
    finally:
        serving.set(None)  # not reset(token): no token held for as long as the session lives
        finish(session)
        if figures is not None:
            session_over(session)
        if trace is not None:
            trace.refused("guard")  # the handler closed or returned before accepting (ignored after accept)
        try:
            if getattr(controller, "on_disconnect", None) is not None and session.accepted:
                await _on_disconnect(endpoint, controller, session)
        finally:
            registry._leave(endpoint.path, supervisor)
            supervisor.finish()


async def _handler_failed(endpoint: Served, session: WebSocketSession, exc: Exception) -> None:
    """Map what the handler raised to a close (called inside the ``except`` block, so tracebacks are logged)."""
    if isinstance(exc, WebSocketDisconnect):
        logger.debug("%s: ended by disconnect, code %s", endpoint.qualname, exc.code)
        await _close_session(session, RETURNED, "")
    elif isinstance(exc, ProtocolCloseError):
        if not session.closed:
            logger.info("%s: closing with %s: %s", endpoint.qualname, exc.close_code, exc)
        await _close_session(session, exc.close_code, trim_reason(str(exc)))
    elif session.accepted:
        logger.warning(
            "WebSocket handler %s (%s) raised; closing with %d", endpoint.qualname, endpoint.path, RAISED, exc_info=True
        )
        await _close_session(session, RAISED, "")
    else:
        closed_by(session, "error")
        logger.warning(
            "WebSocket handler %s (%s) raised before accept; refusing the handshake",
            endpoint.qualname,
            endpoint.path,
            exc_info=True,
        )
        await _close_session(session, REFUSED, "")


async def _admit(
    endpoint: Served, connection: Connection, path_params: Mapping[str, Any], trace: SessionTrace | None
) -> tuple[dict[str, Any], Principal | None] | None:
    """Apply the origin check, the authenticator and the guards: the state guards returned and the principal, or
    ``None`` once refused."""
    policy = endpoint.policy
    handshake = connection.handshake
    headers = Headers.from_raw(handshake.headers)
    why = origin_refusal(headers, policy.allowed_origins)
    if why is not None:
        origin = headers.get("origin") or ""
        logger.info("%s: refused the handshake from origin %r (%s)", endpoint.qualname, origin[:200], why)
        await deny(connection, REFUSED_STATUS, "origin not allowed")
        _refused(endpoint, trace, "origin")
        return None
    authenticator = policy.authenticator
    if not policy.guards and authenticator is None:
        return {}, None
    view = HandshakeView(
        handshake.path,
        MappingProxyType(dict(path_params)),
        QueryParams.from_query_string(handshake.query_string),
        headers,
        handshake.client,
        handshake.subprotocols,
    )
    principal: Principal | None = None
    if authenticator is not None and authenticator.first_message is None:
        try:
            token = authenticator.token(view)
            if token is None:
                raise InvalidToken("no credentials")
            principal = await verified(authenticator, token, endpoint.registry.clock)
        except Reject as refusal:
            log_refusal(endpoint.qualname, refusal.status, refusal.reason)
            await deny(connection, refusal.status, refusal.reason)
            _refused(endpoint, trace, _AUTH_REASONS.get(refusal.status, "error"))
            return None
        except Exception:
            logger.warning(
                "%s: authenticator %r raised; refusing the handshake", endpoint.qualname, authenticator, exc_info=True
            )
            await deny(connection, REFUSED_STATUS, "")
            _refused(endpoint, trace, "error")
            return None
        view = dataclasses.replace(view, principal=principal)
    state: dict[str, Any] = {}
    for guard in policy.guards:
        try:
            result = guard(view)
            if inspect.isawaitable(result):
                result = await result
        except Reject as refusal:
            logger.info("%s: guard %s %s", endpoint.qualname, _name(guard), refusal)
            await deny(connection, refusal.status, refusal.reason)
            _refused(endpoint, trace, "guard")
            return None
        except Exception:
            logger.warning(
                "%s: guard %s raised; refusing the handshake", endpoint.qualname, _name(guard), exc_info=True
            )
            await deny(connection, REFUSED_STATUS, "")
            _refused(endpoint, trace, "error")
            return None
        if isinstance(result, Mapping):
            state.update(result)
    return state, principal


_AUTH_REASONS: dict[int, Reason] = {400: "unauthenticated", 401: "unauthenticated", 403: "forbidden"}
"""The reason a refusal by the authenticator is counted under, by its status (any other: ``error``)."""


async def deny(connection: Connection, status: int, reason: str) -> None:
    """Refuse a handshake with ``status`` where the adapter and server can send one, else with 403."""
    if status == REFUSED_STATUS or not isinstance(connection, Denying):
        await _close_connection(connection, REFUSED, "")
        return
    try:
        await connection.deny(status, reason)
    except Exception:
        logger.debug("denying %s failed", connection.handshake.path, exc_info=True)


def _refused(endpoint: Served, trace: SessionTrace | None, reason: Reason) -> None:
    """Count and trace a refused handshake, each while the application asks for it (once its answer went out)."""
    figures = endpoint.registry.figures
    if figures is not None:
        figures.handshake(endpoint.path, "refused", reason)
    if trace is not None:
        trace.refused(reason)


def _name(guard: object) -> str:
    return getattr(guard, "__qualname__", None) or repr(guard)


async def _close_session(session: WebSocketSession, code: int, reason: str) -> None:
    """Close the session once its handler is done, or finish a close a limit or a drain began; failures at DEBUG."""
    try:
        if session.closed:
            if not close_frame_due(session):
                return
            with anyio.move_on_after(CLOSE_GRACE):  # closed by a limit or a drain, whose frame may still be due
                await finish_close(session)
        else:
            await session.close(code, reason)
    except Exception:
        logger.debug("closing %s failed", session.path, exc_info=True)


async def _close_connection(connection: Connection, code: int, reason: str) -> None:
    """Close a connection that has no session (a refused handshake); a failure is only logged at DEBUG."""
    try:
        await connection.close(code, reason)
    except Exception:
        logger.debug("closing %s failed", connection.handshake.path, exc_info=True)


async def _on_disconnect(endpoint: Served, controller: Any, session: WebSocketSession) -> None:
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
