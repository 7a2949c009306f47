"""From controller sources to endpoints."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from pyfly_ws import ConfigurationError, Container, WebSocketSession, discover, request_mapping, rest_controller
from pyfly_ws import websocket_mapping as ws


@request_mapping("/base")
class Base:
    @ws("/inherited")
    async def inherited(self, session: WebSocketSession) -> None: ...

    @ws("/overridden")
    async def overridden(self, session: WebSocketSession) -> None: ...


@rest_controller
class Child(Base):
    async def overridden(self, session: WebSocketSession) -> None: ...  # no decorator: unmapped

    @ws("/own/{id:int}")
    async def own(self, session: WebSocketSession) -> None: ...

    @ws("/own/static")
    async def static(self, session: WebSocketSession) -> None: ...


def test_inherited_methods_found_and_overrides_unmap() -> None:
    found = {(e.path, e.qualname) for e in discover(Child)}
    assert found == {
        ("/base/inherited", "Child.inherited"),
        ("/base/own/{id:int}", "Child.own"),
        ("/base/own/static", "Child.static"),
    }


def test_literal_segments_sort_before_parameters() -> None:
    paths = [e.path for e in discover(Child)]
    assert paths.index("/base/own/static") < paths.index("/base/own/{id:int}")


def test_duplicate_paths_name_both_methods() -> None:
    @rest_controller
    class A:
        @ws("/x")
        async def one(self, session: WebSocketSession) -> None: ...

    @rest_controller
    @request_mapping("/")
    class B:
        @ws("x/")
        async def two(self, session: WebSocketSession) -> None: ...

    with pytest.raises(ConfigurationError, match=r"duplicate WebSocket path '/x': mapped by \S*A\.one and \S*B\.two"):
        discover([A, B])


def test_overlapping_shapes_are_rejected() -> None:
    @rest_controller
    class A:
        @ws("/i/{id:int}")
        async def one(self, session: WebSocketSession) -> None: ...

        @ws("/i/{name}")
        async def two(self, session: WebSocketSession) -> None: ...

    with pytest.raises(ConfigurationError, match="differ only in parameter names or types"):
        discover(A)


def test_sync_handler_is_rejected() -> None:
    @rest_controller
    class A:
        @ws("/s")
        def sync(self, session: WebSocketSession) -> None: ...

    with pytest.raises(ConfigurationError, match=r"A\.sync is mapped as a WebSocket endpoint; make it `async def`"):
        discover(A)


def test_sources_in_every_form(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("fake_controllers")

    @rest_controller
    class InModule:
        @ws("/m")
        async def m(self, session: WebSocketSession) -> None: ...

    InModule.__module__ = module.__name__
    module.InModule = InModule  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)

    container = Container()
    container.register(InModule)

    class Custom:
        def controllers(self) -> list[type]:
            return [InModule]

        def resolve(self, cls: type) -> Any:
            return cls()

    for source in (InModule, module, "fake_controllers", [InModule, InModule], container, Custom()):
        assert [e.path for e in discover(source)] == ["/m"], source
    with pytest.raises(TypeError, match="a controller source is"):
        discover(42)
    with pytest.raises(TypeError, match="cannot take controllers from 42"):
        discover([42])


def test_examples_package_scans() -> None:
    paths = {e.path for e in discover("examples")}
    assert {"/ws/echo", "/ws/feed", "/ws/chat/{room}", "/ws/rooms/{room_id}"} <= paths
