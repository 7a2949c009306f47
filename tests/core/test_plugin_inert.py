"""The pytest plugin in a project that never asks for the suite: it imports nothing but itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

RUN_PYTEST = textwrap.dedent(
    """
    import sys
    import pytest

    code = pytest.main(["-q", "-p", "no:cacheprovider"])
    print(sorted(name for name in sys.modules if name.startswith("pyfly_ws")))
    sys.exit(code)
    """
)
PUBLIC_NAMES = textwrap.dedent(
    """
    import sys
    import pyfly_ws_conformance

    assert "pyfly_ws_conformance.cases" not in sys.modules
    cases = pyfly_ws_conformance.CASES  # the first public name used loads every case
    assert "pyfly_ws_conformance.cases" in sys.modules and len(cases) > 100, len(cases)
    from pyfly_ws_conformance import *
    from pyfly_ws_conformance.harness import Harness as harness_class
    assert Harness is harness_class and CASES is cases and isinstance(SUITE_VERSION, str)
    assert {Capabilities, Case, CaseContext, case, case_source, load_harness}
    assert set(pyfly_ws_conformance.__all__) <= set(dir(pyfly_ws_conformance))
    print("ok")
    """
)


def test_an_unrelated_project_loads_only_the_plugin(tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text("def test_one() -> None:\n    assert True\n")
    result = subprocess.run(
        [sys.executable, "-c", RUN_PYTEST], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert result.stdout.splitlines()[-1] == "['pyfly_ws_conformance', 'pyfly_ws_conformance.plugin']"
    names = subprocess.run(
        [sys.executable, "-c", PUBLIC_NAMES], capture_output=True, text=True, timeout=60, check=False
    )
    assert names.stdout == "ok\n", names.stdout + names.stderr
