"""Routing: base paths, typed path parameters, query strings, headers, and the requests no endpoint serves."""

from __future__ import annotations

import uuid

from pyfly_ws import WebSocketSession, request_mapping, rest_controller, websocket_mapping

from ..context import CaseContext
from ..registry import case
from ._support import expect_refused


async def _report(session: WebSocketSession) -> None:
    await session.accept()
    await session.send_json(
        {
            "path": session.path,
            "params": {k: [type(v).__name__, str(v)] for k, v in session.path_params.items()},
            "query": session.query_params.multi_items(),
            "headers": {k: session.headers.getlist(k) for k in ("x-one", "x-many")},
            "client": session.client[0] if session.client else None,
        }
    )


@request_mapping("/routing")
class _ReportingBase:
    @websocket_mapping("/inherited")
    async def inherited(self, session: WebSocketSession) -> None:
        await _report(session)


@rest_controller
class RoutingController(_ReportingBase):
    """Every endpoint reports what it saw of the handshake as JSON."""

    @websocket_mapping("")
    async def root(self, session: WebSocketSession) -> None:
        await _report(session)

    @websocket_mapping("plain/")
    async def plain(self, session: WebSocketSession) -> None:
        await _report(session)

    @websocket_mapping("/str/{name}")
    async def text_param(self, session: WebSocketSession) -> None:
        await _report(session)

    @websocket_mapping("/int/{n:int}")
    async def int_param(self, session: WebSocketSession) -> None:
        await _report(session)

    @websocket_mapping("/float/{x:float}")
    async def float_param(self, session: WebSocketSession) -> None:
        await _report(session)

    @websocket_mapping("/uuid/{u:uuid}")
    async def uuid_param(self, session: WebSocketSession) -> None:
        await _report(session)

    @websocket_mapping("/path/{rest:path}")
    async def path_param(self, session: WebSocketSession) -> None:
        await _report(session)

    @websocket_mapping("/typed/{x:float}")
    async def typed(self, session: WebSocketSession) -> None:
        await _report(session)

    @websocket_mapping("/typed/{rest:path}")
    async def untyped(self, session: WebSocketSession) -> None:
        await _report(session)

    @websocket_mapping("/items/{item}")
    async def item(self, session: WebSocketSession) -> None:
        await _report(session)

    @websocket_mapping("/items/special")
    async def special(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_text("literal")


async def _seen(ctx: CaseContext, path: str, **options: object) -> dict[str, object]:
    async with ctx.connect(path, **options) as ws:  # type: ignore[arg-type]
        return dict(await ws.receive_json())


@case("routing.base_path")
async def base_path(ctx: CaseContext) -> None:
    """A mapping with an empty path is served at the controller's base path exactly."""
    seen = await _seen(ctx, "/routing")
    assert seen["path"] == "/routing"


@case("routing.joined_path")
async def joined_path(ctx: CaseContext) -> None:
    """Base path and mapping path are joined with one slash, without a trailing slash."""
    seen = await _seen(ctx, "/routing/plain")
    assert seen["path"] == "/routing/plain"


@case("routing.inherited_endpoint")
async def inherited_endpoint(ctx: CaseContext) -> None:
    """A mapped method inherited from a base class is served under the subclass's controller."""
    assert (await _seen(ctx, "/routing/inherited"))["path"] == "/routing/inherited"


@case("routing.param_str")
async def param_str(ctx: CaseContext) -> None:
    """``{name}`` gives the percent-decoded segment as a str."""
    seen = await _seen(ctx, "/routing/str/caf%C3%A9%20au%20lait")
    assert seen["params"] == {"name": ["str", "café au lait"]}


@case("routing.param_int")
async def param_int(ctx: CaseContext) -> None:
    """``{n:int}`` gives an int, negative numbers included."""
    assert (await _seen(ctx, "/routing/int/42"))["params"] == {"n": ["int", "42"]}
    assert (await _seen(ctx, "/routing/int/-7"))["params"] == {"n": ["int", "-7"]}


@case("routing.param_float")
async def param_float(ctx: CaseContext) -> None:
    """``{x:float}`` gives a float from ``2.5`` and from ``3``."""
    assert (await _seen(ctx, "/routing/float/2.5"))["params"] == {"x": ["float", "2.5"]}
    assert (await _seen(ctx, "/routing/float/3"))["params"] == {"x": ["float", "3.0"]}


@case("routing.param_uuid")
async def param_uuid(ctx: CaseContext) -> None:
    """``{u:uuid}`` gives a ``uuid.UUID``."""
    value = uuid.uuid4()
    assert (await _seen(ctx, f"/routing/uuid/{value}"))["params"] == {"u": ["UUID", str(value)]}


@case("routing.param_path")
async def param_path(ctx: CaseContext) -> None:
    """``{rest:path}`` spans segments and carries no leading slash."""
    assert (await _seen(ctx, "/routing/path/a/b/c.txt"))["params"] == {"rest": ["str", "a/b/c.txt"]}


@case("routing.param_mismatch_refused")
async def param_mismatch_refused(ctx: CaseContext) -> None:
    """A value that does not fit its parameter type refuses the handshake with 403."""
    await expect_refused(ctx, "/routing/int/forty-two")
    await expect_refused(ctx, "/routing/float/1e5")
    await expect_refused(ctx, "/routing/uuid/not-a-uuid")


@case("routing.mismatch_does_not_fall_through")
async def mismatch_does_not_fall_through(ctx: CaseContext) -> None:
    """Routing is by path shape; a value of the wrong type is refused, not handed to a broader endpoint."""
    assert (await _seen(ctx, "/routing/typed/1.5"))["params"] == {"x": ["float", "1.5"]}
    await expect_refused(ctx, "/routing/typed/nan")
    assert (await _seen(ctx, "/routing/typed/a/b"))["params"] == {"rest": ["str", "a/b"]}


@case("routing.unknown_path_refused")
async def unknown_path_refused(ctx: CaseContext) -> None:
    """A path no endpoint serves refuses the handshake with 403, and serving goes on."""
    await expect_refused(ctx, "/routing/nowhere/at/all")
    assert (await _seen(ctx, "/routing"))["path"] == "/routing"


@case("routing.http_at_endpoint_path")
async def http_at_endpoint_path(ctx: CaseContext) -> None:
    """A plain HTTP request (no upgrade) to an endpoint's path gets 426 Upgrade Required, naming ``websocket``."""
    for method, path in (("GET", "/routing/plain"), ("GET", "/routing/int/7"), ("POST", "/routing")):
        reply = await ctx.http(method, path)
        assert reply.status == 426, f"{method} {path}: expected HTTP 426, got {reply.status}"
        assert reply.headers.get("upgrade", "").lower() == "websocket", f"{method} {path}: {reply.headers}"
    assert (await _seen(ctx, "/routing/plain"))["path"] == "/routing/plain"


@case("routing.http_elsewhere_not_found")
async def http_elsewhere_not_found(ctx: CaseContext) -> None:
    """A plain HTTP request to a path no endpoint serves gets 404 (the framework's own, where there is one)."""
    reply = await ctx.http("GET", "/routing/nowhere/at/all")
    assert reply.status == 404, f"expected HTTP 404, got {reply.status}"


@case("routing.literal_before_parameter")
async def literal_before_parameter(ctx: CaseContext) -> None:
    """A literal segment wins over a parameter at the same place, whatever the declaration order."""
    async with ctx.connect("/routing/items/special") as ws:
        assert await ws.receive_text() == "literal"
    assert (await _seen(ctx, "/routing/items/other"))["params"] == {"item": ["str", "other"]}


@case("routing.query_params")
async def query_params(ctx: CaseContext) -> None:
    """Query parameters are decoded, keep blanks and repeats, in order."""
    seen = await _seen(ctx, "/routing", query="a=1&a=2&blank=&s=%C3%A9+x")
    assert seen["query"][:4] == [["a", "1"], ["a", "2"], ["blank", ""], ["s", "é x"]]  # type: ignore[index]


@case("routing.headers")
async def headers(ctx: CaseContext) -> None:
    """Handshake header names are case-insensitive."""
    seen = await _seen(ctx, "/routing", headers=[("X-One", "1")])
    assert seen["headers"] == {"x-one": ["1"], "x-many": []}


@case("routing.repeated_headers", server_requires=("repeated_headers",))
async def repeated_headers(ctx: CaseContext) -> None:
    """A header sent twice keeps both values, in order, through ``getlist()``."""
    seen = await _seen(ctx, "/routing", headers=[("x-many", "a"), ("X-Many", "b")])
    assert seen["headers"] == {"x-one": [], "x-many": ["a", "b"]}


@case("routing.client_address")
async def client_address(ctx: CaseContext) -> None:
    """``session.client`` names the peer's address."""
    assert (await _seen(ctx, "/routing"))["client"] == "127.0.0.1"
