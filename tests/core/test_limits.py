"""``Limits``: defaults, validation, and inheritance from application to controller to endpoint."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest

from pyfly_ws import (
    Limits,
    SessionRegistry,
    WebSocketSession,
    create_app,
    discover,
    request_mapping,
    rest_controller,
    websocket_mapping,
    websocket_policy,
)
from pyfly_ws.close_codes import CloseCode
from pyfly_ws.mapping import limits as limits_module
from pyfly_ws.mapping.limits import DEFAULT_LIMITS, LIMIT_RULES
from pyfly_ws.testing import ASGIClient


@rest_controller
@request_mapping("/l")
@websocket_policy(limits=Limits(rate=10, max_message_size=100))
class Limited:
    @websocket_mapping("/inherit")
    async def inherit(self, session: WebSocketSession) -> None:
        await session.accept()
        await session.send_json({"size": session.limits.max_message_size, "rate": session.limits.rate})

    @websocket_mapping("/own", limits=Limits(max_message_size=None, overflow="drop_oldest"))
    async def own(self, session: WebSocketSession) -> None:
        await session.accept()


def test_defaults_are_documented_values() -> None:
    limits = Limits()
    assert (limits.max_message_size, limits.rate, limits.idle_timeout, limits.first_message_timeout) == (
        1024 * 1024,
        None,
        None,
        None,
    )
    assert (limits.send_queue, limits.send_timeout, limits.overflow) == (64, 30.0, "block")
    assert limits.given == frozenset()
    assert repr(Limits(rate=3)) == "Limits(rate=3)"


def test_levels_merge_field_by_field() -> None:
    endpoints = {e.method: e for e in discover(Limited, limits=Limits(idle_timeout=60, max_message_size=10))}
    inherit, own = endpoints["inherit"].policy.limits, endpoints["own"].policy.limits
    assert (inherit.idle_timeout, inherit.rate, inherit.max_message_size) == (60, 10, 100)
    assert (own.idle_timeout, own.rate, own.max_message_size, own.overflow) == (60, 10, None, "drop_oldest")


def test_an_explicit_default_still_overrides_an_outer_level() -> None:
    outer = Limits(max_message_size=10)
    assert outer.then(Limits(max_message_size=1024 * 1024)).max_message_size == 1024 * 1024
    assert outer.then(Limits()).max_message_size == 10


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"max_message_size": 0}, ValueError),
        ({"max_message_size": 1.5}, TypeError),
        ({"rate": -1}, ValueError),
        ({"rate": float("inf")}, ValueError),
        ({"idle_timeout": "5"}, TypeError),
        ({"send_queue": None}, ValueError),
        ({"overflow": "ignore"}, ValueError),
        ({"burst": True}, TypeError),
    ],
)
def test_bad_values_are_refused_with_the_field_named(options: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error, match=next(iter(options))):
        Limits(**options)


def test_limits_are_immutable() -> None:
    with pytest.raises(AttributeError):
        Limits().rate = 3


def test_limits_must_be_a_limits_object() -> None:
    with pytest.raises(TypeError, match=r"pyfly_ws\.Limits"):
        websocket_mapping("/x", limits={"rate": 3})  # type: ignore[call-overload]


@pytest.mark.anyio
async def test_a_session_sees_its_merged_limits_and_the_registry_counts_it() -> None:
    registry = SessionRegistry()
    app = create_app(Limited, registry=registry, limits=Limits(rate=99))
    async with ASGIClient(app) as client, client.connect("/l/inherit") as ws:
        assert await ws.receive_json() == {"size": 100, "rate": 10}
        assert registry.counts() == {"/l/inherit": 1}
        assert registry.count() == 1 and len(list(registry.sessions())) == 1
    assert registry.counts() == {}


def test_registry_options_are_checked() -> None:
    with pytest.raises(ValueError, match="drain_timeout"):
        SessionRegistry(drain_timeout=-1)
    with pytest.raises(ValueError, match="123 bytes"):
        SessionRegistry(drain_reason="x" * 124)


def test_each_field_has_one_rule_with_its_default_close_code_and_enforcer() -> None:
    """``LIMIT_RULES``: one rule per field, in order; its default is the field's, its enforcer exists."""
    fields = list(inspect.signature(Limits).parameters)
    assert list(LIMIT_RULES) == fields
    for name, rule in LIMIT_RULES.items():
        assert getattr(DEFAULT_LIMITS, name) == rule.default, name
        assert isinstance(rule.close_code, CloseCode), name
        module_name, _, qualname = rule.enforced_by.partition(":")
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
        assert callable(target), rule.enforced_by
    source = inspect.getsource(Limits)
    for name, rule in LIMIT_RULES.items():
        docstring = source.split(f"\n    {name}: ", 1)[1].split('"""')[1]  # the field's docstring
        assert rule.enforced_by.rpartition(".")[2] in docstring, name  # it says where the limit is enforced
        if name not in ("burst", "send_queue"):  # the rate's bucket; the queue closes as ``overflow`` says
            assert f"{rule.close_code:d}" in docstring, name


def test_the_limits_docstring_table_gives_each_rules_close_code() -> None:
    """The table in ``mapping/limits.py``'s docstring shows the close code each rule closes with."""
    doc = limits_module.__doc__ or ""
    for name, rule in LIMIT_RULES.items():
        row = next(line for line in doc.splitlines() if f"``{name}``" in line.partition(" | ")[0])
        assert f"{rule.close_code:d}" in row or name == "send_queue", row
