"""Every ```python block of README.md runs as written, on its own, and every ```toml block parses.

Each block is written to a file of its own in an empty directory and run in a fresh interpreter
with only the repository importable: a block that uses a name it does not define or import, that
awaits at module level, or that is not Python fails here. A block that defines ``test_*`` functions
is run by plain ``pytest`` (no configuration, no conftest) and must pass. A block that would serve
forever keeps its serving line under ``if __name__ == "__main__":``, which is not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .readme import REPO, Block, blocks

PYTHON_BLOCKS = blocks("python")
TIMEOUT = 60.0
"""Seconds one block may take."""
RUN = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='readme_snippet')"
"""Runs a file as a module not named ``__main__``, so its ``if __name__ == "__main__":`` part stays out."""


def is_test_module(block: Block) -> bool:
    """Whether the block is a test file: it defines ``test_*`` functions for pytest to run."""
    return re.search(r"^(async )?def test_", block.code, re.MULTILINE) is not None


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``argv`` in ``cwd``, with the repository importable and no adapter chosen by the environment."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYFLY_WS", "PYTEST"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def run_block(block: Block, folder: Path, code: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the block (or ``code`` in its place) in ``folder``: as a pytest file if it holds tests, else as a script."""
    source = folder / ("test_readme_snippet.py" if is_test_module(block) else "readme_snippet.py")
    source.write_text("\n" * block.line + (block.code if code is None else code), encoding="utf-8")
    if is_test_module(block):
        return run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error", source.name], folder)
    return run([sys.executable, "-W", "error", "-c", RUN, source.name], folder)


def check(ok: object, block: Block, what: str, result: subprocess.CompletedProcess[str]) -> None:
    """Fail with what went wrong, where in README.md, and the output (whose line numbers are README.md's)."""
    if not ok:
        output = (result.stdout + result.stderr).strip()[-4000:]
        pytest.fail(f"{block.where} {what} (exit status {result.returncode}):\n{output}", pytrace=False)


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[f"line{block.line}" for block in PYTHON_BLOCKS])
def test_python_block_runs_as_written(block: Block, tmp_path: Path) -> None:
    result = run_block(block, tmp_path)
    check(result.returncode == 0, block, "does not run as written", result)
    if is_test_module(block):
        check(re.search(r"\b\d+ passed\b", result.stdout), block, "ran no test", result)
        check(not re.search(r"\b\d+ (skipped|xfailed|xpassed)\b", result.stdout), block, "skips a test", result)


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[f"line{block.line}" for block in PYTHON_BLOCKS])
def test_python_block_defines_every_name(block: Block, tmp_path: Path) -> None:
    """Names used anywhere in the block, also in function bodies and under ``__main__``, are defined or imported."""
    source = tmp_path / "readme_snippet.py"
    source.write_text(block.padded(), encoding="utf-8")
    checks = "F821,F822,F823,F811,F401"  # undefined names, redefinitions, unused imports (and syntax errors)
    argv = [sys.executable, "-m", "ruff", "check", "--isolated", "--select", checks, "--output-format", "concise"]
    result = run([*argv, source.name], tmp_path)
    check(result.returncode == 0, block, "uses a name it does not define, or imports one it does not use", result)


def test_the_readme_has_python_blocks() -> None:
    assert len(PYTHON_BLOCKS) >= 10, f"found only {len(PYTHON_BLOCKS)} ```python blocks in README.md"
    assert any(is_test_module(block) for block in PYTHON_BLOCKS), "no ```python block of README.md is a test"


def test_the_testing_snippet_can_fail(tmp_path: Path) -> None:
    """The testing snippet's refusal check fails when the handshake is not refused.

    Its refused path is swapped for the path it connects to successfully just before: a check
    written as ``try/except HandshakeRefused`` would still pass; ``pytest.raises`` must not.
    """
    [block] = [block for block in PYTHON_BLOCKS if is_test_module(block) and "HandshakeRefused" in block.code]
    refusal = re.search(
        r"pytest\.raises\(HandshakeRefused\)[^\n]*\n\s*async with client\.connect\(\"([^\"]+)\"", block.code
    )
    assert refusal, f"{block.where}: the refusal is not checked with `with pytest.raises(HandshakeRefused)` + connect"
    served = re.search(r"client\.connect\(\"([^\"]+)\"", block.code)
    assert served and served.group(1) != refusal.group(1), f"{block.where}: no successful connect before the refusal"
    start, end = refusal.span(1)
    mutated = block.code[:start] + served.group(1) + block.code[end:]
    result = run_block(block, tmp_path, mutated)
    check(
        result.returncode == 1, block, f"still passes when {served.group(1)!r} is connected to as the refusal", result
    )
    check("DID NOT RAISE" in result.stdout, block, "failed, but not at its refusal check", result)


@pytest.mark.parametrize("block", blocks("toml"), ids=[f"line{block.line}" for block in blocks("toml")])
def test_toml_block_parses(block: Block) -> None:
    try:
        tomllib.loads(block.code)
    except tomllib.TOMLDecodeError as exc:
        pytest.fail(f"{block.where} is not valid TOML: {exc}")
