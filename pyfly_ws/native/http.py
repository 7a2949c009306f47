"""The little HTTP an endpoint-only server speaks: one request head in, one short answer out.

A request head is read whole (at most :data:`MAX_HEAD` bytes) before anything
is decided; what it asks for is one of three things: a WebSocket handshake, a
page, or something this server does not serve. picows checks the handshake's
own headers again when it takes the connection over, so this parser only has
to be strict about the shape of the head, not about WebSocket.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import unquote

from ..discovery.routing import HTTPAnswer
from ..session.connection import RawHeaders

__all__ = ["MAX_HEAD", "BadRequest", "RequestHead", "parse_head", "response_bytes"]

MAX_HEAD = 16 * 1024
"""The largest request head read, in bytes (picows's own bound for a handshake); past it, 431."""

_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class BadRequest(Exception):
    """A request head that is not HTTP/1.1 as a WebSocket client sends it: answered with ``status``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(slots=True)
class RequestHead:
    """What a request head says."""

    method: str
    path: str
    """Percent-decoded, without the query string."""
    query_string: bytes
    headers: RawHeaders
    """Lower-case names, values without surrounding whitespace, in the client's order."""
    upgrade: bool
    """The client asks to upgrade to WebSocket (``Upgrade: websocket``)."""


def parse_head(head: bytes) -> RequestHead:
    """Read a request head (up to, not including, the blank line); raises :class:`BadRequest`."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[0] or not set(parts[0]) <= _TOKEN:
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    if version != b"HTTP/1.1":
        raise BadRequest(505 if version.startswith(b"HTTP/") else 400, "only HTTP/1.1 is served")
    if not target.startswith(b"/"):
        raise BadRequest(400, "the request target must be a path")
    raw_path, _, query = target.partition(b"?")
    headers: list[tuple[bytes, bytes]] = []
    upgrade = False
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or not set(name) <= _TOKEN:
            raise BadRequest(400, "malformed header line")
        name, value = name.lower(), value.strip(b" \t")
        if name == b"upgrade" and value.lower() == b"websocket":
            upgrade = True
        headers.append((name, value))
    try:
        path = unquote(raw_path.decode("ascii"), errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(400, "the request path is not ASCII, or not UTF-8 once percent-decoded") from None
    return RequestHead(method.decode("ascii"), path, query, headers, upgrade)


def response_bytes(answer: HTTPAnswer, *, body: bool = True) -> bytes:
    """``answer`` as an HTTP/1.1 response that closes the connection (``body=False``: for ``HEAD``)."""
    try:
        phrase = HTTPStatus(answer.status).phrase
    except ValueError:
        phrase = ""
    lines = [f"HTTP/1.1 {answer.status} {phrase}".encode("latin-1")]
    lines += [name + b": " + value for name, value in answer.raw_headers()]
    lines.append(b"connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + (answer.content if body else b"")
