"""One plain HTTP request (no WebSocket upgrade), in-process through ASGI or over the server's socket."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio

from pyfly_ws.testing import ASGIClient, URLClient

__all__ = ["HTTPReply", "http_request"]

_READ_LIMIT = 1 << 20
"""Bytes of a reply read at most: the answers the cases look at are a few lines, or a small document, long."""


@dataclass(frozen=True)
class HTTPReply:
    """A plain HTTP response: its status, its headers (names in lower case) and its body."""

    status: int
    headers: dict[str, str]
    body: bytes


async def http_request(
    client: ASGIClient | URLClient, method: str, path: str, headers: Sequence[tuple[str, str]] = ()
) -> HTTPReply:
    """Send ``method path`` without a body (with ``headers`` besides ``host``) to the app behind ``client``."""
    if isinstance(client, ASGIClient):
        return await _in_process(client, method, path, headers)
    return await _over_socket(client.base_url, method, path, headers)


async def _in_process(client: ASGIClient, method: str, path: str, extra: Sequence[tuple[str, str]]) -> HTTPReply:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", client.host.encode())]
        + [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in extra],
        "client": client.client,
        "server": ("testserver", 80),
        "state": {},
    }
    sent: list[MutableMapping[str, Any]] = []
    answered = anyio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await answered.wait()  # as a server does: the client leaves once the response is complete
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            answered.set()

    with anyio.fail_after(client.timeout):
        await client.app(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    headers = {
        bytes(name).decode("latin-1").lower(): bytes(value).decode("latin-1") for name, value in start["headers"]
    }
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return HTTPReply(int(start["status"]), headers, body)


async def _over_socket(base_url: str, method: str, path: str, extra: Sequence[tuple[str, str]]) -> HTTPReply:
    address = urlsplit(base_url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    given = "".join(f"{name}: {value}\r\n" for name, value in extra)
    request = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{given}Connection: close\r\n\r\n"
    received = b""
    with anyio.fail_after(10):
        async with await anyio.connect_tcp(host, port) as stream:
            await stream.send(request.encode("latin-1"))
            while len(received) < _READ_LIMIT:
                try:
                    received += await stream.receive()
                except anyio.EndOfStream:
                    break
                head, found, rest = received.partition(b"\r\n\r\n")
                if found and _complete(head, rest):
                    break
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return HTTPReply(int(status_line.split(" ")[1]), headers, body[: int(headers.get("content-length", len(body)))])


def _complete(head: bytes, body: bytes) -> bool:
    """Whether the reply so far holds all its body (by ``content-length``; else it ends when the server closes)."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False
