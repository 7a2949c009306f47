"""Path joining and templates."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyfly_ws import ConfigurationError
from pyfly_ws.mapping.paths import PathTemplate, join_paths


@pytest.mark.parametrize(
    ("base", "path", "joined"),
    [
        ("/ws", "echo", "/ws/echo"),
        ("/ws/", "/echo", "/ws/echo"),
        ("ws", "echo/", "/ws/echo"),
        ("", "", "/"),
        ("/ws", "", "/ws"),
        ("", "/echo", "/echo"),
        ("/", "/", "/"),
        ("//ws//", "//a//b//", "/ws/a/b"),
        (" /ws ", " echo ", "/ws/echo"),
    ],
)
def test_join_paths(base: str, path: str, joined: str) -> None:
    assert join_paths(base, path) == joined


@given(st.text(alphabet="ab/ ", max_size=12), st.text(alphabet="ab/ ", max_size=12))
def test_joined_paths_are_normalised(base: str, path: str) -> None:
    joined = join_paths(base, path)
    assert joined.startswith("/")
    assert "//" not in joined
    assert joined == "/" or not joined.endswith("/")
    assert join_paths(joined, "") == joined


def test_typed_parameters_convert() -> None:
    rid = uuid.uuid4()
    template = PathTemplate("/r/{room}/{n:int}/{x:float}/{u:uuid}/{rest:path}")
    assert template.match(f"/r/lobby/-3/2.5/{rid}/a/b/c") == {
        "room": "lobby",
        "n": -3,
        "x": 2.5,
        "u": rid,
        "rest": "a/b/c",
    }
    assert template.convert({"room": "a", "n": "1", "x": "1", "u": str(rid).upper(), "rest": "z"}) == {
        "room": "a",
        "n": 1,
        "x": 1.0,
        "u": rid,
        "rest": "z",
    }


@pytest.mark.parametrize(
    "path", ["/r/lobby/1.5/2/u/x", "/r/lobby/1/nan/u/x", "/r/a/1/2/not-a-uuid/x", "/r/a/1/2/u", "/r/a/b"]
)
def test_mismatches_give_none(path: str) -> None:
    template = PathTemplate("/r/{room}/{n:int}/{x:float}/{u:uuid}/{rest:path}")
    assert template.match(path.replace("/u/", f"/{uuid.uuid4()}/", 1) if "/u/" in path else path) is None


def test_convert_rejects_missing_or_bad_raw_values() -> None:
    template = PathTemplate("/t/{n:int}")
    assert template.convert({"n": "12"}) == {"n": 12}
    assert template.convert({"n": "1e3"}) is None
    assert template.convert({}) is None


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/a/{x:decimal}", "unknown parameter type 'decimal'"),
        ("/a/{x}{y}", "must be literal text or a whole parameter"),
        ("/a/pre{x}", "must be literal text or a whole parameter"),
        ("/a/{x}/{x:int}", "names parameter 'x' twice"),
        ("/a/{p:path}/b", "must be the last segment"),
        ("/a/{1x}", "must be literal text or a whole parameter"),
    ],
)
def test_bad_templates_are_configuration_errors(path: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        PathTemplate(path)


def test_render_and_shape() -> None:
    template = PathTemplate("/a/{x:int}/{p:path}")
    assert template.render(lambda name, is_path: f"<{'path:' if is_path else ''}{name}>") == "/a/<x>/<path:p>"
    assert template.shape == ("a", "{}", "{path}")
    assert PathTemplate("/").match("/") == {}
    assert PathTemplate("/a").match("/a/") is None
