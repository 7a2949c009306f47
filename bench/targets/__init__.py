"""The applications the benchmarks serve, one per *target*, chosen by ``BENCH_TARGET``.

Every target serves the same two WebSocket endpoints:

- ``/echo`` sends each text message back;
- ``/room`` joins one shared room, says ``joined``, and a text ``go:X`` sends ``X`` to
  everyone in the room.

Targets: ``raw`` (a bare ASGI callable), ``pyfly-ADAPTER`` (a pyfly-ws controller on
that adapter) and ``hand-FRAMEWORK`` (the same endpoints written by hand the way the
framework's documentation shows). A server imports ``bench.serve:app``.

The typed echo has targets of its own (:mod:`bench.targets.typed`), each serving ``/typed/KIND``
for every payload kind: ``msg-pyfly-ADAPTER`` (message-level controllers) and ``msg-hand-FRAMEWORK``
(the same parsing, dispatch and validation written by hand: on pyfly-ws method endpoints for the
``asgi`` adapter, on Starlette for the ``starlette`` one).
"""

from __future__ import annotations

import importlib
from typing import Any

HISTORY_TARGETS = ("pyfly-history-off", "pyfly-history-on")
"""The rooms of ``python -m bench.history`` on a Redis hub (``BENCH_REDIS_URL``): without history, and with it
(:mod:`bench.targets.history`; the two apps differ only in ``Hub(..., history=...)``)."""

ADAPTERS = ("asgi", "starlette", "litestar", "quart")
"""The adapters measured; each is compared with the hand-written endpoint of its framework."""

HAND = {"asgi": "raw", "starlette": "hand-starlette", "litestar": "hand-litestar", "quart": "hand-quart"}
"""Adapter -> the target its pyfly-ws endpoint is compared with (for ``asgi``, the raw ASGI app)."""

TARGETS = ("raw", "pyfly-asgi", *(t for name in ADAPTERS[1:] for t in (HAND[name], f"pyfly-{name}")))
"""Every target, in the order a run measures them: each pyfly-ws target right after its counterpart."""

TYPED_ADAPTERS = ("asgi", "starlette")
"""The adapters the typed echo is measured on."""

TYPED_KINDS = ("dataclass", "pydantic", "msgspec")
"""The typed echo's payload kinds, each served at ``/typed/KIND``."""

TYPED_HAND = {"asgi": "msg-hand-asgi", "starlette": "msg-hand-starlette"}
"""Adapter -> the hand-written typed echo its message-level controllers are compared with."""

TYPED_TARGETS = tuple(t for name in TYPED_ADAPTERS for t in (TYPED_HAND[name], f"msg-pyfly-{name}"))
"""The typed echo's targets, each pyfly-ws one right after its counterpart."""

PLAIN = "pyfly-asgi-plain"
"""``pyfly-asgi`` with the session's direct ASGI-event path off (every message through ``Connection``):
``python -m bench.micro --targets pyfly-asgi pyfly-asgi-plain`` shows what that path is worth."""

METERED = "pyfly-asgi-metrics"
"""``pyfly-asgi`` with metrics on (the OpenTelemetry SDK reading into memory): what counting costs, beside
``pyfly-asgi`` in ``bench.micro`` and ``bench.opcodes`` (``python -m bench.metrics`` compares the two, interleaved)."""


SIGNED = ("pyfly-asgi-auth", "pyfly-asgi-jwt")
"""``pyfly-asgi`` with every session signed in by a token offered as a subprotocol: looked up in a dict (what
pyfly-ws's part costs), or a JWT checked by ``JWTVerifier`` (what PyJWT adds):
``python -m bench.micro --targets pyfly-asgi pyfly-asgi-auth pyfly-asgi-jwt``."""


def build(target: str) -> Any:
    """The ASGI application of ``target``; an unknown name raises ``ValueError`` listing the valid ones."""
    if target == "raw":
        from .raw import app

        return app
    if target in TYPED_TARGETS:
        return _typed(target)
    if target == PLAIN:
        from .pyfly import build_plain_app

        return build_plain_app()
    if target == METERED:
        from .pyfly import build_metered_app

        return build_metered_app()
    if target in SIGNED:
        from .pyfly import build_signed_app

        return build_signed_app(target == SIGNED[1])
    if target in HISTORY_TARGETS:
        from .history import build_history_app

        return build_history_app(target == HISTORY_TARGETS[1])
    kind, _, framework = target.partition("-")
    if target not in TARGETS:
        valid = ", ".join((*TARGETS, *TYPED_TARGETS, PLAIN, METERED, *SIGNED, *HISTORY_TARGETS))
        raise ValueError(f"unknown benchmark target {target!r}; choose one of: {valid}")
    if kind == "pyfly":
        from .pyfly import build_app

        return build_app(framework)
    return importlib.import_module(f"{__name__}.{framework}").app


def _typed(target: str) -> Any:
    framework = target.rpartition("-")[2]
    if target.startswith("msg-pyfly-"):
        from .typed import build_app as build_typed

        return build_typed(framework)
    from . import typed_hand

    return typed_hand.build_asgi() if framework == "asgi" else typed_hand.build_starlette()
