"""One word per idea in the core and the adapters: the retired synonyms do not come back.

Closing is ``close`` (``_close_now``, ``_begin_close``/``_finish_close``, ``_close_in_time``,
``_close_session``/``_close_connection``); the peer leaving is ``gone`` (``peer_gone_errors``,
``gone``, ``gone_with``, ``gone_error``, ``_mark_gone``); "refuse" is a handshake refusal only.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyfly_ws", "adapters", "examples/falcon_adapter")

RETIRED = {
    r"\b_shut\b": "closing is `close`: _close_now",
    r"\b_mark_closed\b": "closing is `close`: _begin_close",
    r"\b_send_close_frame\b": "closing is `close`: _finish_close",
    r"\b_send_close\b": "closing is `close`: _close_in_time",
    r"\b_quiet_close\b": "closing is `close`: _close_connection",
    r"\b_mark_peer_gone\b|\b_peer_left\b": "the peer leaving is `gone`: _mark_gone",
    r"\b_lost\b": "the peer leaving is `gone`: gone_error",
    r"\b_departed\b|\b_disconnected\b": "the peer leaving is `gone`: gone_with",
    r"def _refuse\(self, operation": "`refuse` is a handshake refusal: _raise_for_state",
    r"watchdog": "there is no watchdog: the timekeeper enforces the time limits",
}


def test_no_retired_word_is_used() -> None:
    found = []
    for root in SOURCES:
        for path in sorted((REPO / root).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for pattern, instead in RETIRED.items():
                for match in re.finditer(pattern, text):
                    line = text.count("\n", 0, match.start()) + 1
                    found.append(f"{path.relative_to(REPO)}:{line}: {match.group()} ({instead})")
    assert not found, "\n".join(found)
