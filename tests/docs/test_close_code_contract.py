"""The README's close-code contract, row by row, against the table the code uses (``pyfly_ws.lifecycle.outcomes``)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from pyfly_ws.lifecycle import outcomes
from pyfly_ws.lifecycle.outcomes import OUTCOMES, Outcome
from pyfly_ws.mapping.limits import LIMIT_RULES

from .readme import README, REPO

_CLOSE_CODE = re.compile(r"\b(1\d{3}|[34]\d{3})\b")
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")
_LEVEL = re.compile(r"\b(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")


def _readme_rows() -> list[tuple[str, str, str]]:
    """The rows of the table under ``## The close-code contract``: (what happens, what the client sees, logged)."""
    section = README.read_text(encoding="utf-8").split("\n## The close-code contract\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    assert lines[0].startswith("| what happens |") and set(lines[1]) <= set("|- "), "the table's header moved"
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        assert len(cells) == 3, line
        rows.append((cells[0], cells[1], cells[2]))
    return rows


def test_the_readme_shows_every_outcome_and_no_other() -> None:
    """Same rows, same order, same words: a row added, dropped or changed on one side only fails here."""
    table = [(outcome.happens, outcome.client_sees, outcome.logged) for outcome in OUTCOMES]
    assert _readme_rows() == table


@pytest.mark.parametrize("outcome", OUTCOMES, ids=lambda outcome: outcome.happens[:40])
def test_each_row_states_its_codes_status_and_level(outcome: Outcome) -> None:
    """The codes, status and log level of a row are the ones its words say (so the README says them too)."""
    assert {int(code) for code in _CLOSE_CODE.findall(outcome.client_sees)} == set(outcome.codes)
    statuses = [int(status) for status in _HTTP_STATUS.findall(outcome.client_sees)]
    assert statuses == ([] if outcome.status is None else [outcome.status])
    levels = _LEVEL.findall(outcome.logged)
    assert [logging.getLevelName(level) for level in levels] == ([] if outcome.level is None else [outcome.level])


@pytest.mark.parametrize("outcome", [o for o in OUTCOMES if o.limits], ids=lambda outcome: outcome.happens[:40])
def test_a_limits_row_gives_the_close_codes_of_its_rules(outcome: Outcome) -> None:
    """A row about limits names them, and closes with the codes their rules in ``LIMIT_RULES`` give."""
    assert {LIMIT_RULES[name].close_code for name in outcome.limits} == set(outcome.codes)
    for name in outcome.limits:
        assert name in outcome.happens or (name == "send_queue" and "outgoing queue" in outcome.happens), name


def test_the_lifecycle_closes_with_the_codes_the_table_names() -> None:
    """``run.py`` and ``supervisor.py`` choose no close code of their own: each is a name from ``outcomes.py``."""
    lifecycle = REPO / "pyfly_ws" / "lifecycle"
    for name in ("run.py", "supervisor.py"):
        source = Path(lifecycle / name).read_text(encoding="utf-8")
        assert "CloseCode" not in source, name
    for name in ("RETURNED", "RAISED", "REFUSED", "UNRESOLVED", "DRAINED", "REFUSED_STATUS", "DRAINING_STATUS"):
        assert name in outcomes.__all__
