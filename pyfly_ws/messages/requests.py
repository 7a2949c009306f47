"""Server requests: ``session.request`` sends a frame with a fresh id and waits for the client's answer.

The pending requests of a session are a dict from id to :class:`Waiter`, held by the
conversation; the functions here register, answer, time out and fail them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from ..exceptions import RequestError, RequestTimeoutError
from ..mapping.messages import Envelope

__all__ = ["Waiter", "answer", "ask", "fail_all"]


class Waiter:
    """One pending server request: set once, by the client's reply or error, or by the session's end."""

    __slots__ = ("event", "value", "error")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.value: Any = None
        self.error: BaseException | None = None


async def ask(
    pending: dict[str, Waiter],
    rid: str,
    send: Callable[[Any], Awaitable[None]],
    frame: str | bytes,
    timeout: float,  # noqa: ASYNC109
    what: str,
) -> Any:
    """Send ``frame`` (the request with id ``rid``) and return the data of the client's reply."""
    waiter = pending[rid] = Waiter()
    try:
        await send(frame)
        with anyio.move_on_after(timeout):
            await waiter.event.wait()
    finally:
        del pending[rid]
    if waiter.error is not None:
        raise waiter.error
    if not waiter.event.is_set():
        raise RequestTimeoutError(f"no reply to {what!r} (id {rid}) within {timeout:g} s")
    return waiter.value


def answer(pending: dict[str, Waiter], envelope: Envelope, doc: Any) -> bool:
    """Resolve the pending request that ``doc`` (a client reply or error frame) answers; whether it did."""
    if doc.__class__ is not dict:
        return False
    kind = doc.get(envelope.type)
    if kind != "reply" and kind != "error":
        return False
    rid = doc.get(envelope.id)
    waiter = pending.get(rid) if rid.__class__ is str else None
    if waiter is None or waiter.event.is_set():
        return False
    if kind == "reply":
        waiter.value = doc.get(envelope.data)
    else:
        code, text, errors = doc.get(envelope.code), doc.get(envelope.message), doc.get(envelope.errors)
        waiter.error = RequestError(
            code if isinstance(code, str) and code else "error",
            text if isinstance(text, str) else "",
            errors if isinstance(errors, list) else None,
        )
    waiter.event.set()
    return True


def fail_all(pending: dict[str, Waiter], error: Callable[[], BaseException]) -> None:
    """End every pending request with ``error()`` (the session is over)."""
    for waiter in pending.values():
        if not waiter.event.is_set():
            waiter.error = error()
            waiter.event.set()
