"""The README's table of instruments, row by row, against the one the reporters read (``telemetry/readings.py``)."""

from __future__ import annotations

from pyfly_ws.telemetry.readings import INSTRUMENTS

from .readme import README

KINDS = {"counter": "counter", "up_down_counter": "up-down counter", "histogram": "histogram"}


def test_the_readme_shows_every_instrument_and_no_other() -> None:
    section = README.read_text(encoding="utf-8").split("\n### Metrics\n", 1)[1].split("\n### Traces\n", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    assert lines[0] == "| instrument | kind | unit | attributes |", "the table's header moved"
    rows = [tuple(cell.strip() for cell in line.strip().strip("|").split(" | ")) for line in lines[2:]]
    table = [
        (f"`{one.name}`", KINDS[one.kind], f"`{one.unit}`", ", ".join(f"`{name}`" for name in one.attributes))
        for one in INSTRUMENTS
    ]
    assert rows == table
