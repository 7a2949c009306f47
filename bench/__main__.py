"""Run the benchmarks: ``python -m bench [--smoke] [--servers ...] [--adapters ...] [--typed-only] [--out DIR]``.

Each figure is measured for every adapter's pyfly-ws endpoint, its framework's hand-written
endpoint and a raw ASGI app, behind each server, interleaved, with the load from a separate
process. The typed echo (message-level controllers against the same parsing, dispatch and
validation written by hand) is measured on uvicorn-sansio. The medians, the ratios and the
budget go to ``DIR/results.{md,json,png}``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from .report import write
from .run import Plan, Results, missing, run
from .targets import ADAPTERS

SMOKE = Plan(
    servers=("uvicorn-sansio",),
    clients=(10,),
    sizes=(32,),
    rounds=2,
    window=0.1,
    warmup=0.05,
    idle_count=50,
    broadcast_sessions=50,
    broadcast_rounds=2,
    typed_clients=(10,),
)
"""A few seconds per adapter: proves every part still runs, measures nothing worth quoting."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds on one server: does it still work")
    parser.add_argument("--servers", nargs="+", help=f"default: {' '.join(Plan.servers)}")
    parser.add_argument("--adapters", nargs="+", choices=ADAPTERS, help=f"default: {' '.join(ADAPTERS)}")
    parser.add_argument(
        "--rounds", type=int, help=f"windows per target for each echo or connect figure (default {Plan.rounds})"
    )
    parser.add_argument("--window", type=float, help=f"seconds each window measures (default {Plan.window})")
    parser.add_argument("--no-redis", action="store_true", help="skip the broadcast over Redis")
    typed = parser.add_mutually_exclusive_group()
    typed.add_argument(
        "--typed-only",
        action="store_true",
        help="measure the typed echo alone, on the servers given (default: uvicorn-sansio)",
    )
    typed.add_argument("--no-typed", action="store_true", help="skip the typed echo")
    parser.add_argument("--out", type=Path, default=Path(".bench"), help="where the results go (default .bench)")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="measure nothing: write the tables and chart of a results.json again",
    )
    args = parser.parse_args(argv)
    if args.render is not None:
        document = json.loads(args.render.read_text())
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in document["plan"].items()}
        plan = Plan(**fields)
        paths = write(Results(plan, document["samples"]), args.out, document["command"])
        print(f"written: {', '.join(str(p) for p in paths.values())}")
        return
    plan = SMOKE if args.smoke else Plan()
    changes = {
        "servers": tuple(args.servers) if args.servers else None,
        "adapters": tuple(args.adapters) if args.adapters else None,
        "rounds": args.rounds,
        "window": args.window,
        "redis": False if args.no_redis else None,
    }
    plan = replace(plan, **{k: v for k, v in changes.items() if v is not None})
    if args.typed_only:
        servers = tuple(args.servers) if args.servers else plan.typed_servers
        plan = replace(plan, servers=servers, typed_servers=servers, standard=False, redis=False)
    elif args.no_typed:
        plan = replace(plan, typed_servers=())
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    started = time.monotonic()
    results = run(plan, log=lambda line: print(f"[{time.monotonic() - started:6.0f} s] {line}", flush=True))
    paths = write(results, args.out, command)
    print(paths["markdown"].read_text())
    print(f"written: {', '.join(str(p) for p in paths.values())} in {time.monotonic() - started:.0f} s")
    gaps = missing(results)
    if gaps:
        sys.exit("figures missing from the results:\n  " + "\n  ".join(gaps))


if __name__ == "__main__":
    main()
