"""What a server serves in a benchmark run: ``bench.serve:app``, the target named by ``BENCH_TARGET``.

A module of its own, with ``app`` a plain attribute, because some servers
(hypercorn) read the attribute from the module's namespace directly.
"""

from __future__ import annotations

import os

from .targets import build

if os.environ.get("BENCH_GC") == "off":  # for experiments: how much of a figure is the cycle collector's
    import gc

    gc.disable()

app = build(os.environ.get("BENCH_TARGET", "raw"))
