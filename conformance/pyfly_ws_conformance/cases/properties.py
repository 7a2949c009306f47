"""Property-based cases: arbitrary payloads round-trip unchanged (hypothesis drives them)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..context import CaseContext
from ..registry import case

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
"""Bounded and repeatable: the same examples on every run and transport."""

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)


def _roundtrip(ctx: CaseContext, path: str, strategy: st.SearchStrategy[Any], send: str, receive: str) -> None:
    with ctx.open(path) as ws:

        @SETTINGS
        @given(strategy)
        def check(value: Any) -> None:
            ctx.call(getattr(ws, send), value)
            assert ctx.call(getattr(ws, receive)) == value

        check()


def _min_size(ctx: CaseContext) -> int:
    """Empty messages only where the server delivers them (``messages.empty_*`` cover them)."""
    return 0 if ctx.server is None or ctx.server.empty_messages else 1


@case("properties.text_roundtrip")
def text_roundtrip(ctx: CaseContext) -> None:
    """Any Unicode text (up to 4 KiB of characters) comes back unchanged."""
    _roundtrip(ctx, "/messages/text", st.text(min_size=_min_size(ctx), max_size=4096), "send_text", "receive_text")


@case("properties.bytes_roundtrip")
def bytes_roundtrip(ctx: CaseContext) -> None:
    """Any bytes (up to 4 KiB) come back unchanged."""
    _roundtrip(ctx, "/messages/bytes", st.binary(min_size=_min_size(ctx), max_size=4096), "send_bytes", "receive_bytes")


@case("properties.json_roundtrip")
def json_roundtrip(ctx: CaseContext) -> None:
    """Any JSON value comes back equal through ``receive_json``/``send_json``."""
    _roundtrip(ctx, "/messages/json", json_values, "send_json", "receive_json")
