"""Bodies of the measured steps that are not ``aioa`` commands; each runs in its own process.

``python -m benchmarks.steps floor FILE OUT.parquet``
    The floor: a bare ``pandas.read_csv(FILE, engine="pyarrow")`` then ``to_parquet`` — what any
    cleaning must at least pay to read the extract and write a table.
``python -m benchmarks.steps stats CONTRACTS.parquet --as-of YYYY-MM-DD``
    The statistics of the département report exactly as the report computes them:
    ``aioa_analysis.reporting.prepare_report`` (load, validate, every estimator, the points de
    vigilance), with the time spent in each library function.

Each step records its details (timings of its parts) with :func:`benchmarks.measure.write_info`.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib
import inspect
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pandas as pd

from benchmarks.measure import write_info

T = TypeVar("T")

#: Library modules whose public functions the report's statistics call (timed one by one).
_REPORT_MODULES = (
    "stats.rates",
    "stats.survival",
    "stats.compare",
    "stats.seasonality",
    "stats.transitions",
    "stats.diploma",
    "stats.suppression",
    "stats.forecast",
    "stats.casemix",
    "stats.summer",
    "stats.competing",
    "stats.breakdowns",
    "stats.age_period",
    "stats.accompaniment",
    "stats.vigilance",
    "reporting.findings",
)


def _timed(fn: Callable[[], T]) -> tuple[float, T]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def step_floor(path: Path, out: Path) -> dict:
    """Bare pyarrow read of the CSV then parquet write (the floor)."""
    t_read, df = _timed(lambda: pd.read_csv(path, engine="pyarrow"))
    t_write, _ = _timed(lambda: df.to_parquet(out))
    return {"rows": len(df), "read_s": t_read, "write_s": t_write, "parquet_mb": out.stat().st_size / 2**20}


def _timing_wrappers() -> tuple[dict[str, list[float]], Callable[[], None]]:
    """Wrap the public functions of the statistics modules with wall-clock timers.

    Only the outermost timed call counts (a statistic calling another is not counted twice).
    Returns the timings dict ``name -> [seconds, calls]`` and a function that removes the wrappers.
    """
    timings: dict[str, list[float]] = {}
    depth = [0]
    undo: list[tuple[object, str, object]] = []
    for mod_name in _REPORT_MODULES:
        try:
            mod = importlib.import_module(f"aioa_analysis.{mod_name}")
        except ImportError:  # a module renamed or merged: its functions are not timed
            continue
        short = mod_name.rsplit(".", 1)[-1]
        for name, fn in list(vars(mod).items()):
            if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != mod.__name__:
                continue

            @functools.wraps(fn)
            def timed(*a, __fn=fn, __key=f"{short}.{name}", **k):
                depth[0] += 1
                t0 = time.perf_counter()
                try:
                    return __fn(*a, **k)
                finally:
                    depth[0] -= 1
                    if depth[0] == 0:
                        entry = timings.setdefault(__key, [0.0, 0])
                        entry[0] += time.perf_counter() - t0
                        entry[1] += 1

            setattr(mod, name, timed)
            undo.append((mod, name, fn))

    def restore() -> None:
        for mod, name, fn in undo:
            setattr(mod, name, fn)

    return timings, restore


def step_report_stats(path: Path, as_of: str) -> dict:
    """The report's own statistics: :func:`aioa_analysis.reporting.prepare_report` (load, validate,
    every estimator of ``compute_results``, the points de vigilance), with a per-function breakdown."""
    from aioa_analysis import reporting

    timings, restore = _timing_wrappers()
    try:
        seconds, ctx = _timed(lambda: reporting.prepare_report(data_file=str(path), as_of=as_of))
    finally:
        restore()
    parts = {k: {"seconds": v[0], "calls": v[1]} for k, v in timings.items()}
    return {
        "rows": len(ctx.contracts),
        "prepare_s": seconds,
        "compute_s": sum(p["seconds"] for p in parts.values()),
        "n_results": len(dataclasses.fields(ctx.results)),
        "n_findings": len(ctx.findings),
        "parts": parts,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.steps")
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("floor")
    p.add_argument("file", type=Path)
    p.add_argument("out", type=Path)
    p = sub.add_parser("stats")
    p.add_argument("contracts", type=Path)
    p.add_argument("--as-of", required=True)
    args = parser.parse_args(argv)
    if args.step == "floor":
        info = step_floor(args.file, args.out)
    else:
        info = step_report_stats(args.contracts, args.as_of)
    write_info(info)
    print({k: v for k, v in info.items() if k != "parts"})
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
