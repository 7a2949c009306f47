"""The bean container."""

from __future__ import annotations

import pytest

from pyfly_ws import Container, ResolutionError


class Repo:
    pass


class SqlRepo(Repo):
    pass


class Service:
    def __init__(self, repo: Repo, retries: int = 3) -> None:
        self.repo = repo
        self.retries = retries


def test_singletons_built_lazily_with_injection() -> None:
    built: list[str] = []
    container = Container()

    def make_repo() -> SqlRepo:
        built.append("repo")
        return SqlRepo()

    container.register(SqlRepo, factory=make_repo)
    container.register(Service)
    assert built == []
    service = container.resolve(Service)
    assert built == ["repo"]
    assert isinstance(service.repo, SqlRepo) and service.retries == 3
    assert container.resolve(Service) is service
    assert container.resolve(Repo) is service.repo


def test_instances_and_as_type() -> None:
    container = Container()
    repo = SqlRepo()
    container.register_instance(repo, as_type=Repo)
    assert container.resolve(Repo) is repo
    assert Repo in container


def test_errors_say_what_is_missing() -> None:
    container = Container()
    container.register(Service)
    with pytest.raises(ResolutionError, match="parameter 'repo' needs Repo: Repo is not registered"):
        container.resolve(Service)

    class Other(Repo): ...

    container.register(SqlRepo)
    container.register(Other)
    with pytest.raises(ResolutionError, match="Repo is ambiguous"):
        container.resolve(Repo)


class A:
    def __init__(self, b: B) -> None: ...


class B:
    def __init__(self, a: A) -> None: ...


def test_cycles_are_reported() -> None:
    container = Container()
    container.register(A)
    container.register(B)
    with pytest.raises(ResolutionError, match="dependency cycle: A -> B -> A"):
        container.resolve(A)


def test_constructor_failure_and_untyped_parameter() -> None:
    class Boom:
        def __init__(self) -> None:
            raise OSError("disk")

    class Untyped:
        def __init__(self, x) -> None:  # type: ignore[no-untyped-def]
            self.x = x

    container = Container()
    container.register(Boom)
    container.register(Untyped)
    with pytest.raises(ResolutionError, match=r"building .*Boom failed: OSError"):
        container.resolve(Boom)
    with pytest.raises(ResolutionError, match="parameter 'x' has no class type hint and no default"):
        container.resolve(Untyped)
    with pytest.raises(TypeError):
        container.register("nope")  # type: ignore[arg-type]


def test_scan_registers_stereotyped_classes_only() -> None:
    container = Container()
    found = container.scan("examples")
    names = {cls.__name__ for cls in found}
    assert {"EchoController", "FeedController", "ChatController", "RoomsController", "OrdersController"} == names
    assert set(container.controllers()) == set(found)
