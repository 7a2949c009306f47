"""Docstrings as the document's descriptions: cleaned, with reStructuredText's inline markup as CommonMark."""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any

__all__ = ["doc_of", "split_doc"]

_ROLE = re.compile(r":[A-Za-z][\w.:+-]*:`(~?)([^`<]*?)(?:\s*<[^>]*>)?`")
"""``:class:`~pyfly_ws.Hub```, ``:data:`MAX` ``: the text of an interpreted-text role."""


def _markdown(text: str) -> str:
    text = _ROLE.sub(lambda found: f"`{found[2].rsplit('.', 1)[-1] if found[1] else found[2]}`", text)
    return text.replace("``", "`")


def doc_of(obj: Any) -> str | None:
    """The docstring written on ``obj`` (a class's own, not its bases', nor a dataclass's generated signature)."""
    if isinstance(obj, type):
        doc = obj.__dict__.get("__doc__")
        if dataclasses.is_dataclass(obj) and isinstance(doc, str) and doc.startswith(f"{obj.__name__}("):
            return None
    else:
        doc = getattr(obj, "__doc__", None)
    if not isinstance(doc, str):
        return None
    return _markdown(inspect.cleandoc(doc)) or None


def split_doc(doc: str | None) -> dict[str, str]:
    """``summary`` (the first line) and ``description`` (what follows it) of a docstring."""
    if not doc:
        return {}
    first, _, rest = doc.partition("\n")
    rest = rest.strip()
    return {"summary": first.strip(), "description": rest} if rest else {"summary": first.strip()}
