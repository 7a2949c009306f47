"""``AsyncAPI``: what ``create_app(..., asyncapi=...)`` and the command line describe and serve."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..mapping.guards import Guard

__all__ = ["AsyncAPI"]


@dataclass(frozen=True)
class AsyncAPI:
    """The AsyncAPI document's facts that the code cannot tell, and where its pages are served.

    ``title``, ``version`` and ``description`` default to the ``[project]``
    table of the nearest ``pyproject.toml`` above the working directory
    (``name``, ``version``, ``description``). ``servers`` maps a server's name
    to its URL, ``ws://127.0.0.1:8000`` or ``wss://example.com/prefix``.
    ``path`` is where the HTML page is served, with the document beside it at
    ``path + ".json"`` and ``path + ".yaml"``; ``guards`` run on every request
    for them, as an endpoint's guards run on a handshake.
    """

    path: str = "/asyncapi"
    title: str | None = None
    version: str | None = None
    description: str | None = None
    servers: Mapping[str, str] = field(default_factory=dict)
    guards: Sequence[Guard] = ()
