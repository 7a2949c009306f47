"""The commands README.md shows exist as shown: nox sessions, pip extras, and the flags of every command line.

Nothing here serves or installs anything: a command's flags are checked against its ``--help``,
``pyfly-ws routes`` (which only prints) is run, and the extras a ``pip install`` names are checked
against pyproject.toml, including that they install what the conformance commands beside them need.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path

import pytest

from pyfly_ws_conformance.plugin import DEFAULT_TRANSPORTS
from pyfly_ws_conformance.runner import IN_PROCESS
from pyfly_ws_conformance.servers import SERVERS

from .readme import README, REPO, Block, blocks, commands

SHELL_BLOCKS = blocks("bash")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS: dict[str, list[str]] = PYPROJECT["project"]["optional-dependencies"]
IN_PROCESS_NEEDS = {name: ("trio",) if loop == "trio" else () for name, loop in IN_PROCESS.items()}
"""What the in-process transports need installed, beyond the kit."""


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """``argv`` in the repository, with this interpreter's scripts (``pyfly-ws``) first on the PATH."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "PATH": path}
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)


def help_text(argv: list[str]) -> str:
    result = run([*argv, "--help"])
    assert result.returncode == 0, f"`{' '.join(argv)} --help` failed:\n{result.stdout}{result.stderr}"
    return result.stdout


@cache
def cached_help(argv: tuple[str, ...]) -> str:
    return help_text(list(argv))


def options(argv: list[str]) -> list[tuple[str, str | None]]:
    """The ``--flag`` options of a command line, each with its value when the next word is one (or after ``=``)."""
    found: list[tuple[str, str | None]] = []
    for index, word in enumerate(argv):
        if word.startswith("--"):
            flag, equals, value = word.partition("=")
            following = argv[index + 1] if index + 1 < len(argv) else None
            found.append((flag, value if equals else (following if following and following[0] != "-" else None)))
    return found


def check_options(block: Block, argv: list[str], program: list[str]) -> None:
    """Every option of ``argv`` is one ``program --help`` documents, with a value among its choices if it has any."""
    text = cached_help(tuple(program))
    for flag, value in options(argv):
        assert re.search(rf"(^|[\s,]){re.escape(flag)}(?![\w-])", text), (
            f"{block.where}: `{' '.join(program)}` has no {flag}"
        )
        choices = re.search(rf"{re.escape(flag)}[ =]\{{([^}}]*)\}}", text)
        if choices and value is not None:
            allowed = choices.group(1).split(",")
            assert value in allowed, f"{block.where}: {flag} {value} is not one of {allowed}"


def resolve(extras: list[str]) -> set[str]:
    """The distributions ``pip install "pyfly-ws[extras]"`` installs (lowercase names), following self-references."""
    names: set[str] = {re.split(r"[<>=!~\[; ]", dep)[0].lower() for dep in PYPROJECT["project"]["dependencies"]}
    pending, seen = list(extras), set()
    while pending:
        extra = pending.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for dep in EXTRAS[extra]:
            nested = re.fullmatch(r"pyfly-ws\[([^\]]+)\]", dep)
            if nested:
                pending += nested.group(1).split(",")
            else:
                names.add(re.split(r"[<>=!~\[; ]", dep)[0].lower())
    return names | seen


def named_extras(text: str) -> list[str]:
    """Every extra of pyfly-ws that ``text`` names: ``pyfly-ws[a,b]`` or ``.[a,b]``."""
    return [
        extra for group in re.findall(r"(?:pyfly-ws|\.)\[([a-z0-9][a-z0-9,_-]*)\]", text) for extra in group.split(",")
    ]


def test_the_readme_shows_commands() -> None:
    assert sum(len(commands(block)) for block in SHELL_BLOCKS) >= 10


def test_every_extra_named_exists() -> None:
    unknown = sorted(set(named_extras(README.read_text(encoding="utf-8"))) - set(EXTRAS))
    assert not unknown, f"README.md names extras pyproject.toml does not define: {unknown}"


def test_every_nox_session_named_exists() -> None:
    listing = run([sys.executable, "-m", "nox", "-l"])  # --json leaves out the sessions plain `nox` skips
    assert listing.returncode == 0, f"`nox -l` failed:\n{listing.stdout}{listing.stderr}"
    names = re.findall(r"^[*-] (\S+?)(?: -> |$)", listing.stdout, re.MULTILINE)
    sessions = {*names, *(name.partition("(")[0] for name in names)}
    named = re.findall(r"nox -s ([\w-]+)", README.read_text(encoding="utf-8"))
    assert named, "README.md names no `nox -s` session"
    missing = sorted(set(named) - sessions)
    assert not missing, f"README.md names nox sessions that `nox -l` does not list: {missing}"


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=[f"line{block.line}" for block in SHELL_BLOCKS])
def test_command_lines_are_real(block: Block) -> None:
    for argv in commands(block):
        if argv[0] == "pyfly-ws":
            command = ["pyfly-ws", argv[1]] if len(argv) > 1 and not argv[1].startswith("-") else ["pyfly-ws"]
            check_options(block, argv, command)
            if argv[1] == "routes":  # it only prints: run it
                result = run(argv)
                assert result.returncode == 0, f"{block.where}: `{' '.join(argv)}` failed:\n{result.stderr}"
        elif argv[0] == "pytest":
            check_options(block, argv, [sys.executable, "-m", "pytest"])
        elif argv[:2] == ["python", "-m"]:
            check_options(block, argv, [sys.executable, "-m", argv[2]])
        elif argv[:2] == ["pip", "install"]:
            unknown = sorted(set(named_extras(" ".join(argv))) - set(EXTRAS))
            assert not unknown, f"{block.where}: no such extras {unknown}"


def suite_runs(argv: list[str]) -> tuple[str, list[str]] | None:
    """The adapter and transports a command runs the conformance suite on, or None if it does not."""
    if argv[:2] == ["pyfly-ws", "conformance"]:
        return argv[2], [value for flag, value in options(argv) if flag == "--server" and value]
    adapter = next((value for flag, value in options(argv) if flag == "--pyfly-ws-adapter"), None)
    if argv[0] == "pytest" and adapter:
        return adapter, [value for flag, value in options(argv) if flag == "--pyfly-ws-server" and value]
    return None


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=[f"line{block.line}" for block in SHELL_BLOCKS])
def test_conformance_transports_exist(block: Block) -> None:
    known = [*IN_PROCESS_NEEDS, *SERVERS, "all"]
    for adapter, transports in filter(None, map(suite_runs, commands(block))):
        unknown = [name for name in transports if name not in known]
        assert not unknown, f"{block.where}: the suite on {adapter} names unknown transports {unknown}"


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=[f"line{block.line}" for block in SHELL_BLOCKS])
def test_conformance_commands_name_their_extras(block: Block) -> None:
    """A block that installs pyfly-ws and runs the suite installs the adapter and every server it runs on."""
    argvs = commands(block)
    installs = [argv for argv in argvs if argv[:2] == ["pip", "install"]]
    runs = [found for argv in argvs if (found := suite_runs(argv))]
    if not installs or not runs:
        return
    installed = resolve([extra for argv in installs for extra in named_extras(" ".join(argv))])
    for adapter, transports in runs:
        needs = {"conformance", "pytest"} | ({adapter} if adapter in EXTRAS else set())
        for transport in [*SERVERS, *IN_PROCESS_NEEDS] if "all" in transports else transports or DEFAULT_TRANSPORTS:
            server = SERVERS.get(transport)
            needs |= set(IN_PROCESS_NEEDS[transport] if server is None else (server.module, *server.requires))
        missing = sorted(needs - installed)
        assert not missing, (
            f"{block.where}: running {adapter} on {transports or 'the default transports'} needs {missing}"
        )


def test_quick_start_is_two_commands_in_a_virtual_environment() -> None:
    text = README.read_text(encoding="utf-8")
    quick = re.search(r"^## Quick start\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert quick, "README.md has no '## Quick start' section"
    assert "python3 -m venv" in quick.group(1), "the quick start does not say to use a virtual environment"
    [block] = blocks("bash", quick.group(1))
    lines = [line for line in block.code.splitlines() if line.strip()]
    assert len(lines) == 2, f"the quick start shows {len(lines)} command lines, not two (run the demo, run the tests)"
    assert commands(block)[-1] == ["nox"], "the quick start's second command is not plain `nox`"
    assert ["pyfly-ws", "run", "examples.chat"] in commands(block), "the quick start's first command is not the demo"
