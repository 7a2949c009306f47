"""Routing precedence: the core's ``RouteTable``, which every adapter asks which endpoint serves a path."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pyfly_ws import Endpoint, WebSocketSession, discover, rest_controller, websocket_mapping
from pyfly_ws.adapter import UPGRADE_REQUIRED, RouteTable


def _endpoints(*paths: str) -> list[Endpoint]:
    """Endpoints at ``paths``, discovered (so sorted most specific first) from one controller."""

    def handler() -> Any:
        async def serve(self: Any, session: WebSocketSession) -> None:
            await session.accept()

        return serve

    members = {f"m{index}": websocket_mapping(path)(handler()) for index, path in enumerate(paths)}
    return discover([rest_controller(type("Routes", (), members))])


def _served(table: RouteTable, path: str) -> tuple[str, dict[str, str]] | None:
    found = table.match(path)
    return None if found is None else (found[0].path, dict(found[1]))


def test_first_match_in_discovery_order_wins() -> None:
    table = RouteTable(_endpoints("/items/{item}", "/items/special", "/files/{rest:path}", "/files/{name}", "/"))
    assert _served(table, "/items/special") == ("/items/special", {})
    assert _served(table, "/items/other") == ("/items/{item}", {"item": "other"})
    assert _served(table, "/files/a") == ("/files/{name}", {"name": "a"})
    assert _served(table, "/files/a/b") == ("/files/{rest:path}", {"rest": "a/b"})
    assert _served(table, "/") == ("/", {})
    assert _served(table, "/items") is None
    assert _served(table, "/items/special/") is None


def test_exact_paths_are_looked_up_only_when_no_earlier_pattern_takes_them() -> None:
    first, second = _endpoints("/{name}", "/fixed")[::-1]  # given in this order: the pattern first
    table = RouteTable([first, second])
    assert first.path == "/{name}"
    assert "/fixed" not in table.exact
    assert _served(table, "/fixed") == ("/{name}", {"name": "fixed"})
    assert RouteTable([second, first]).exact == {"/fixed": second}


def test_match_is_by_shape_and_leaves_types_to_the_endpoint() -> None:
    table = RouteTable(_endpoints("/n/{n:int}", "/n/{rest:path}"))
    assert _served(table, "/n/forty-two") == ("/n/{n:int}", {"n": "forty-two"})


def test_http_answer_is_upgrade_required_at_an_endpoint_path_only() -> None:
    table = RouteTable(_endpoints("/ws/echo", "/ws/rooms/{room:int}"))
    assert table.http_answer("/ws/echo") is UPGRADE_REQUIRED
    assert table.http_answer("/ws/rooms/x") is UPGRADE_REQUIRED
    assert table.http_answer("/elsewhere") is None
    assert UPGRADE_REQUIRED.status == 426
    assert (b"upgrade", b"websocket") in UPGRADE_REQUIRED.raw_headers()
    length = dict(UPGRADE_REQUIRED.raw_headers())[b"content-length"]
    assert int(length) == len(UPGRADE_REQUIRED.content)


def _template(body: list[str], tail: list[str]) -> str:
    # Parameters named by position, so that no template names one twice.
    return "/" + "/".join(part.format(f"p{index}") for index, part in enumerate([*body, *tail]))


_SEGMENTS = st.sampled_from(["a", "b", "{{{}}}", "{{{}:int}}"])
_TEMPLATES = st.builds(_template, st.lists(_SEGMENTS, max_size=3), st.sampled_from([[], ["{{{}:path}}"]]))


def _shape(path: str) -> tuple[str, ...]:
    return tuple("{}" if part.startswith("{") and ":path" not in part else part for part in path.split("/"))


@given(
    st.lists(_TEMPLATES, min_size=1, max_size=6, unique_by=_shape),
    st.lists(st.sampled_from(["a", "b", "7", "c"]), max_size=4),
)
def test_ahead_of_lists_every_endpoint_that_wins_over_another(paths: list[str], segments: list[str]) -> None:
    """A framework router that picks one endpoint, then asks ``ahead_of``, ends where the core's table does."""
    table = RouteTable(_endpoints(*paths))
    path = "/" + "/".join(segments)
    expected = _served(table, path)
    for endpoint in table.endpoints:
        if endpoint.template.match_raw(path) is None:
            continue
        ahead = table.ahead_of(endpoint)
        assert _served(ahead or RouteTable([endpoint]), path) == expected
