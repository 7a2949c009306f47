"""README.md's figures about the conformance suite are the code's: case count, areas, capabilities, Falcon's matrix.

Falcon's matrix is worked out from the kit's own skip rule (``Runner.skip_reason``) and the
adapter's declared capabilities, without running the cases; that every case which is not skipped
passes is what the ``conformance-custom`` session checks.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sys
from collections.abc import Iterator

import pytest

from pyfly_ws import Capabilities
from pyfly_ws_conformance import CASES
from pyfly_ws_conformance.matrix import format_matrix
from pyfly_ws_conformance.recorder import RECORDER
from pyfly_ws_conformance.runner import Runner

from .readme import README, REPO, Block, blocks, commands

FALCON = REPO / "examples" / "falcon_adapter"


def section(title: str) -> str:
    """The README text under the ``## title`` heading, up to the next ``## `` heading."""
    text = README.read_text(encoding="utf-8")
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert found, f"README.md has no '## {title}' section"
    return found.group(1)


def test_case_count_is_the_suites() -> None:
    counts = re.findall(r"\b(\d+) cases\b", section("The conformance suite"))
    assert counts, "README.md's conformance section no longer says how many cases the suite has"
    assert set(counts) == {str(len(CASES))}, f"README.md says {counts} cases; the suite has {len(CASES)}"


def test_every_area_is_named() -> None:
    text = " ".join(section("The conformance suite").split())
    missing = sorted({case.area for case in CASES.values()} - set(re.findall(r"[a-z]+", text)))
    assert not missing, f"README.md's conformance section does not name the case areas {missing}"


def test_capability_flags_are_the_real_ones() -> None:
    listed = re.search(r"`pyfly_ws\.Capabilities`\s*\(([^)]*)\)", section("The conformance suite"))
    assert listed, "README.md no longer lists the flags of pyfly_ws.Capabilities"
    flags = re.findall(r"`(\w+)`", listed.group(1))
    assert flags == [field.name for field in dataclasses.fields(Capabilities)]


@pytest.fixture
def falcon_runner() -> Iterator[Runner]:
    """A conformance runner on the Falcon example, as ``pyfly-ws conformance falcon`` builds it."""
    if str(FALCON) not in sys.path:
        sys.path.insert(0, str(FALCON))  # when it is not installed; installed, it is the same module
    logger = logging.getLogger("pyfly_ws")
    level = logger.level
    runner = Runner("pyfly_ws_falcon:adapter", [])
    try:
        yield runner
    finally:
        runner.close()
        logger.removeHandler(RECORDER)  # the runner records the core's logs for the cases; none run here
        logger.setLevel(level)


def falcon_blocks() -> tuple[Block, list[str], Block]:
    """The block running the suite on Falcon, the transports it names, and the matrix block after it."""
    every = blocks()
    for index, block in enumerate(every):
        for argv in commands(block) if block.lang == "bash" else []:
            if argv[:3] == ["pyfly-ws", "conformance", "falcon"]:
                servers = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--server"]
                assert index + 1 < len(every) and every[index + 1].lang == "", f"{block.where}: no matrix after it"
                return block, servers, every[index + 1]
    raise AssertionError("README.md no longer runs the suite on the Falcon example (`pyfly-ws conformance falcon`)")


def test_falcon_matrix_is_what_the_suite_reports(falcon_runner: Runner) -> None:
    command, servers, shown = falcon_blocks()
    assert servers, f"{command.where}: name the transports (--server) whose matrix follows"
    known = falcon_runner.harness.known_failures
    rows: dict[str, dict[str, int]] = {}
    for transport in servers:
        skipped = sum(falcon_runner.skip_reason(case, transport) is not None for case in CASES.values())
        xfailed = sum(
            bool(known.get(f"{case.id}@{transport}") or known.get(case.id))
            and falcon_runner.skip_reason(case, transport) is None
            for case in CASES.values()
        )
        rows[transport] = {
            "passed": len(CASES) - skipped - xfailed,
            "failed": 0,
            "skipped": skipped,
            "xfailed": xfailed,
        }
    expected = format_matrix({"falcon": rows})
    assert shown.code.rstrip("\n") == expected, f"{shown.where} should read:\n{expected}"
