"""The README's performance section leads with the table of one ``python -m bench.headline`` run, as it wrote it."""

from __future__ import annotations

from .readme import REPO

RESULTS = REPO / "bench" / "results" / "headline" / "results.md"


def _table(text: str) -> list[str]:
    """The first markdown table of ``text``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


def test_the_performance_section_leads_with_the_headline_table() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Performance\n", 1)[1].split("\n## ", 1)[0]
    results = RESULTS.read_text(encoding="utf-8")
    assert _table(section) == _table(results), "README.md's lead table is not bench/results/headline/results.md's"
    command = next(line for line in results.splitlines() if line.startswith("Command: `"))
    assert command.split("`")[1] in section, "the section does not give the command that produced the table"
    rows = [row.split("|")[1].strip() for row in _table(results)[2:]]
    assert rows[0] == "raw ASGI" and rows[-2:] == ["pyfly-ws native", "raw picows"], rows
