"""Ordinary mistakes on the command line: one line naming the fix, a failing exit status, no traceback.

Each test runs the real ``pyfly-ws`` or ``pytest`` script of this environment in a fresh process,
in a temporary working directory.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from pyfly_ws_conformance.plugin import check_installed
from pyfly_ws_conformance.servers import SERVERS, available

BIN = Path(sys.executable).parent
FRAMEWORKS = ("starlette", "litestar", "quart")
MISSING_FRAMEWORKS = [name for name in FRAMEWORKS if importlib.util.find_spec(name) is None]
"""Built-in adapters whose framework this environment lacks (all three in the ``core`` session)."""
FAKE_ADAPTER = "import pyfly_ws_no_such_framework\n\nadapter = None\n"
"""An adapter module needing a framework that is installed nowhere."""


def command(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a script of this environment's ``bin`` directory in ``cwd``."""
    env = {key: value for key, value in os.environ.items() if key != "PYFLY_WS_ADAPTER"}
    return subprocess.run(
        [str(BIN / argv[0]), *argv[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a failed command printed on stderr, after checking there is nothing else."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output
    assert "INTERNALERROR" not in output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.parametrize("spec", [*MISSING_FRAMEWORKS, "fake_adapter:adapter"])
def test_conformance_on_an_adapter_whose_framework_is_missing(tmp_path: Path, spec: str) -> None:
    (tmp_path / "fake_adapter.py").write_text(FAKE_ADAPTER)
    line = one_line(command("pyfly-ws", "conformance", spec, cwd=tmp_path))
    if spec in FRAMEWORKS:
        assert line.endswith(f'which is not installed: pip install "pyfly-ws[{spec}]"')
    else:
        assert line.endswith(
            "'pyfly_ws_no_such_framework', which is not installed: install 'pyfly_ws_no_such_framework'"
        )


def test_conformance_on_an_unknown_adapter(tmp_path: Path) -> None:
    line = one_line(command("pyfly-ws", "conformance", "nosuch", cwd=tmp_path))
    assert "no pyfly-ws adapter is named 'nosuch'; installed adapters: asgi, " in line


def test_conformance_on_a_server_that_is_not_installed(tmp_path: Path) -> None:
    """One error before any case runs, naming the extra; not a failure per case.

    The ``core`` session installs neither granian, daphne nor wsproto, so there the real command
    runs on one of them; wherever every server is installed, the same check runs on a server whose
    module exists nowhere.
    """
    absent = [name for name in SERVERS if not available(name)]
    if absent:
        result = command(
            "pyfly-ws", "conformance", "asgi", "--server", "inprocess", "--server", absent[0], cwd=tmp_path
        )
        line = one_line(result)
        assert f'(for {absent[0]}), which is not installed: pip install "pyfly-ws[{SERVERS[absent[0]].extra}]"' in line
        assert "passed" not in result.stdout
    ghost = {"ghost": replace(SERVERS["hypercorn"], name="ghost", module="pyfly_ws_no_such_server")}
    assert check_installed(["inprocess", "ghost"], ghost) == (
        "the pyfly-ws conformance suite needs pyfly_ws_no_such_server (for ghost), which is not installed: "
        'pip install "pyfly-ws[hypercorn]"'
    )


@pytest.mark.parametrize(
    "argv", [["pyfly-ws", "routes", "broken_syntax"], ["pytest", "--pyfly-ws-adapter=broken_syntax:adapter"]]
)
def test_a_syntax_error_names_the_file_and_line(tmp_path: Path, argv: list[str]) -> None:
    broken = tmp_path / "broken_syntax.py"
    broken.write_text("x = 1\ndef f(:\n    pass\n")
    line = one_line(command(*argv, cwd=tmp_path))
    assert line.endswith(f"importing 'broken_syntax' failed: SyntaxError: invalid syntax ({broken}, line 2)")


def test_version_comes_from_the_installed_metadata(tmp_path: Path) -> None:
    result = command("pyfly-ws", "--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"pyfly-ws {importlib.metadata.version('pyfly-ws')}\n"


PYTEST_INI = "[pytest]\naddopts = -p no:cacheprovider\n"
ADAPTER_MODULE = textwrap.dedent(
    """
    from pyfly_ws.asgi import ASGIAdapter

    adapter = ASGIAdapter()
    """
)


@pytest.mark.parametrize("where", ["working directory", "rootdir"])
def test_the_pytest_script_finds_an_adapter_module_of_the_project(tmp_path: Path, where: str) -> None:
    """``pytest`` (not only ``python -m pytest``) imports ``pkg.mod:attr`` from the project under test."""
    (tmp_path / "pytest.ini").write_text(PYTEST_INI)
    (tmp_path / "my_pkg").mkdir()
    (tmp_path / "my_pkg" / "__init__.py").write_text("")
    (tmp_path / "my_pkg" / "adapter.py").write_text(ADAPTER_MODULE)
    cwd = tmp_path if where == "working directory" else tmp_path / "tests"
    cwd.mkdir(exist_ok=True)
    argv = ["--pyfly-ws-adapter=my_pkg.adapter:adapter", "--pyfly-ws-server=inprocess", "-k", "routing.", "-q"]
    result = command("pytest", *argv, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "INTERNALERROR" not in result.stdout + result.stderr
    assert " passed" in result.stdout
