"""From controller sources to endpoints."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from pyfly_ws import (
    ConfigurationError,
    Container,
    ResolutionError,
    WebSocketSession,
    discover,
    request_mapping,
    rest_controller,
)
from pyfly_ws import websocket_mapping as ws
from pyfly_ws.cli import main

ROOT = Path(__file__).resolve().parents[2]


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
    paths = {e.path for e in discover("examples", check=False)}
    assert {"/ws/echo", "/ws/feed", "/ws/chat/{room}", "/ws/rooms/{room_id}", "/ws/orders"} <= paths
    with pytest.raises(
        ResolutionError, match=r"controller examples\.chat\.ChatController: .*parameter 'hub' needs Hub"
    ):
        discover("examples")  # the chat needs the Hub its module registers in a Container of its own


class Repo:
    pass


class Service:
    built = 0

    def __init__(self, repo: Repo) -> None:
        Service.built += 1


@rest_controller
class NeedsService:
    built = 0

    def __init__(self, service: Service) -> None:
        NeedsService.built += 1

    @ws("/needs")
    async def needs(self, session: WebSocketSession) -> None: ...


def test_a_controller_its_source_cannot_build_fails_discovery_naming_what_is_missing() -> None:
    NeedsService.built = Service.built = 0
    with pytest.raises(ResolutionError) as unbuildable:
        discover(NeedsService)
    assert str(unbuildable.value) == (
        f"controller {__name__}.NeedsService: cannot build NeedsService: parameter 'service' needs Service: "
        "Service is not registered in the container "
        "(classes and modules give only their controllers: use a Container that provides it)"
    )
    container = Container()
    container.register(NeedsService)
    container.register(Service)
    with pytest.raises(ResolutionError, match=r"NeedsService: cannot build Service: parameter 'repo' needs Repo"):
        discover(container)
    container.register(Repo)
    assert [e.path for e in discover(container)] == ["/needs"]
    assert NeedsService.built == Service.built == 0  # checked, not built: still built on the first connection
    assert [e.path for e in discover(NeedsService, check=False)] == ["/needs"]  # lazily, as before


def test_a_cycle_or_an_untyped_parameter_fails_discovery() -> None:
    @rest_controller
    class Untyped:
        def __init__(self, anything) -> None:  # type: ignore[no-untyped-def]
            pass

        @ws("/u")
        async def u(self, session: WebSocketSession) -> None: ...

    with pytest.raises(ResolutionError, match="parameter 'anything' has no class type hint and no default"):
        discover(Untyped)

    container = Container()
    container.register(Loop)
    container.register(Other)
    with pytest.raises(ResolutionError, match="dependency cycle: Loop -> Other -> Loop"):
        discover(container)


@rest_controller
class Loop:
    def __init__(self, other: Other) -> None:
        pass

    @ws("/loop")
    async def loop(self, session: WebSocketSession) -> None: ...


class Other:
    def __init__(self, loop: Loop) -> None:
        pass


def test_pyfly_ws_run_refuses_an_unbuildable_controller_in_one_line_before_serving(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["run", "examples", "--port", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing advertised, no server started
    assert captured.err.startswith("pyfly-ws: controller examples.chat.ChatController: cannot build ChatController")
    assert len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    assert main(["routes", "examples"]) == 0  # routes still lists everything mapped, and says what run refuses
    captured = capsys.readouterr()
    assert "/ws/chat/{room}" in captured.out
    assert captured.err.startswith("pyfly-ws: controller examples.chat.ChatController: cannot build ChatController")
