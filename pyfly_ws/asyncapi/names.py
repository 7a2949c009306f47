"""Names in the document: component and channel names are letters, digits, ``_``, ``.`` and ``-``, each used once."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["Names", "safe_name"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def safe_name(text: str) -> str:
    """``text`` as a component name (letters, digits, ``_``, ``.`` and ``-``; anything else becomes ``_``)."""
    return _UNSAFE.sub("_", text) or "_"


class Names:
    """Hands out names, each once: the wanted one made safe, else numbered (``name-2``, ``name-3``...)."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self.taken = set(taken)

    def new(self, wanted: str) -> str:
        """A name not handed out before, as close to ``wanted`` as may be."""
        base = safe_name(wanted)
        name, number = base, 2
        while name in self.taken:
            name, number = f"{base}-{number}", number + 1
        self.taken.add(name)
        return name
