"""README.md as data: its fenced blocks, each with the line it starts on, and the commands its shell blocks show."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

__all__ = ["README", "REPO", "Block", "blocks", "commands"]

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"


@dataclass(frozen=True)
class Block:
    """One fenced block of the README."""

    lang: str
    """The word after the opening fence (``python``, ``bash``, ``toml``), or ``""``."""
    line: int
    """The README line of the opening fence (1-based): the block's first line is ``line + 1``."""
    code: str
    """The text between the fences."""

    @property
    def where(self) -> str:
        """Where the block is, for failure messages."""
        return f"README.md line {self.line} (```{self.lang} block)"

    def padded(self) -> str:
        """The code preceded by blank lines, so that line numbers in tracebacks are README.md line numbers."""
        return "\n" * self.line + self.code


def blocks(lang: str | None = None, text: str | None = None) -> list[Block]:
    """Every fenced block of the README (or of ``text``), or only those of ``lang``."""
    found: list[Block] = []
    opened: tuple[str, int] | None = None
    body: list[str] = []
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.startswith("```"):
            if opened:
                body.append(line)
            continue
        if opened is None:
            opened, body = (line[3:].strip(), number), []
        else:
            found.append(Block(opened[0], opened[1], "\n".join(body) + "\n"))
            opened = None
    if opened is not None:
        raise AssertionError(f"README.md line {opened[1]}: a fenced block is never closed")
    return [block for block in found if lang is None or block.lang == lang]


def commands(block: Block) -> list[list[str]]:
    """The commands of a shell block: comments dropped, ``&&`` chains split, each as its argv."""
    found: list[list[str]] = []
    for line in block.code.splitlines():
        for part in re.split(r"\s&&\s", line):
            argv = shlex.split(part, comments=True)
            if argv:
                found.append(argv)
    return found
