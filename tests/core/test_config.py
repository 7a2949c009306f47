"""Choosing an adapter: argument, environment, pyproject.toml, default."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyfly_ws import AdapterNotFoundError, ConfigurationError, create_app
from pyfly_ws.asgi import PyflyASGIApp
from pyfly_ws.config import ENV_VAR, available_adapters, choose_adapter, load_adapter, usable_adapters
from tests.core.test_lifecycle import Scenarios


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(ENV_VAR, raising=False)
    nested = tmp_path / "app" / "src"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    return tmp_path / "app"


def test_order_argument_env_pyproject_default(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert choose_adapter() == ("asgi", "default")
    (project / "pyproject.toml").write_text('[tool.pyfly-ws]\nadapter = "quart"\n')
    assert choose_adapter() == ("quart", str(project.resolve() / "pyproject.toml"))
    monkeypatch.setenv(ENV_VAR, "litestar")
    assert choose_adapter() == ("litestar", f"environment variable {ENV_VAR}")
    assert choose_adapter("starlette") == ("starlette", "argument")


def test_nearest_pyproject_without_setting_means_default(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.pyfly-ws]\nadapter = "quart"\n')
    (project / "src" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert choose_adapter() == ("asgi", "default")


@pytest.mark.parametrize(
    ("text", "message"), [("adapter = [", "cannot read"), ("[tool.pyfly-ws]\nadapter = 3", "must be")]
)
def test_bad_pyproject_is_a_clear_error(project: Path, text: str, message: str) -> None:
    (project / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigurationError, match=message):
        choose_adapter()


def test_unknown_adapter_lists_installed(project: Path) -> None:
    with pytest.raises(AdapterNotFoundError, match="no pyfly-ws adapter is named 'nope'; installed adapters: asgi, "):
        create_app(Scenarios, "nope")
    assert {"asgi", "starlette", "litestar", "quart"} <= set(available_adapters())


def test_import_path_adapters_and_defaults(project: Path) -> None:
    assert isinstance(create_app(Scenarios), PyflyASGIApp)
    assert load_adapter("pyfly_ws.asgi:ASGIAdapter").name == "asgi"  # a class is instantiated
    with pytest.raises(AdapterNotFoundError, match="has no attribute"):
        load_adapter("pyfly_ws.asgi:missing")
    with pytest.raises(AdapterNotFoundError, match="module 'no_such_mod' is not installed"):
        load_adapter("no_such_mod:adapter")
    with pytest.raises(AdapterNotFoundError, match="which has no name and create_app"):
        load_adapter("pyfly_ws.asgi:PyflyASGIApp.match")


BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = {"starlette", "litestar", "quart", "fastapi"}
    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, Blocker())
    """
)


@pytest.mark.parametrize("name", ["starlette", "litestar", "quart"])
def test_missing_framework_names_the_extra(name: str) -> None:
    code = BLOCKER + textwrap.dedent(
        f"""
        from pyfly_ws import AdapterUnavailableError, create_app
        from examples.echo import EchoController
        try:
            create_app(EchoController, {name!r})
        except AdapterUnavailableError as exc:
            print(exc)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert f'pip install "pyfly-ws[{name}]"' in result.stdout, result.stdout + result.stderr


def test_usable_adapters_say_what_each_unusable_one_needs() -> None:
    usable = usable_adapters()
    assert set(usable) == set(available_adapters())
    assert usable["asgi"] is None
    for name in ("starlette", "litestar", "quart"):
        assert usable[name] == (None if importlib.util.find_spec(name) else f'pip install "pyfly-ws[{name}]"')


def test_the_unknown_adapter_message_lists_the_usable_ones_without_importing_frameworks() -> None:
    """With every framework missing, each is listed with its extra; with them installed, none is imported."""
    code = textwrap.dedent(
        """
        import sys
        from pyfly_ws import AdapterNotFoundError
        from pyfly_ws.config import load_adapter
        try:
            load_adapter("nope")
        except AdapterNotFoundError as exc:
            print(exc)
        print(sorted({"starlette", "litestar", "quart"} & set(sys.modules)))
        """
    )
    for prelude in ("", BLOCKER):
        result = subprocess.run(
            [sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=60, check=True
        )
        message, imported = result.stdout.splitlines()
        assert message.startswith("no pyfly-ws adapter is named 'nope'; installed adapters: asgi, "), message
        assert imported == "[]"
        for name in ("starlette", "litestar", "quart"):
            needs = f'{name} (needs pip install "pyfly-ws[{name}]")'
            assert (needs in message) == (prelude == BLOCKER or importlib.util.find_spec(name) is None), message
