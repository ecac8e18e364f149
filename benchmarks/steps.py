"""Bodies of the measured steps that are not ``aioa`` commands; each runs in its own process.

``python -m benchmarks.steps floor FILE OUT.parquet [--tuned]``
    The floor: a bare ``pandas.read_csv(FILE, engine="pyarrow")`` then ``to_parquet`` — what any
    cleaning must at least pay to read the extract and write a table. ``--tuned``: the same, with the
    process settings ``aioa`` gives itself (:mod:`aioa_analysis.core.allocator`).
``python -m benchmarks.steps stats CONTRACTS.parquet --as-of YYYY-MM-DD``
    The statistics of the département report exactly as the report computes them:
    ``aioa_analysis.reporting.prepare_report`` (load, validate, every estimator, the points de
    vigilance), with the time spent in each library function.
``python -m benchmarks.steps stats_all CONTRACTS.parquet --as-of YYYY-MM-DD``
    A wider set (:data:`STATISTICS`): the 9-month rate by each of the 11 main dimensions, KM and
    log-rank by cohort, phases, monthly hazard, re-contracting, diploma outcome, funnel and
    indirect standardisation, each timed.
``python -m benchmarks.steps baseline CONTRACTS.parquet --as-of YYYY-MM-DD``
    The baseline for the statistics: a straightforward pandas ``groupby`` computation of the same
    9-month rates (same dimensions, Wilson intervals), no library code.

Each step records its details (timings of its parts) with :func:`benchmarks.measure.write_info`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import importlib
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import numpy as np
import pandas as pd

from benchmarks.measure import write_info

#: Dimensions of the 9-month rate tables the report shows (public names -> contract column).
RATE_DIMENSIONS: dict[str, str] = {
    "cfa": "cfa_uai",
    "sector": "sector",
    "sector_group": "sector_group",
    "diploma_level": "diploma_level",
    "diploma_family": "diploma_family",
    "cohort": "school_year",
    "start_month": "start_month",
    "territory": "territory",
    "employer_size": "employer_size_band",
    "age_band": "age_band",
    "sex": "sex",
}
HORIZON_MONTHS = 9
T = TypeVar("T")


def _module(name: str) -> ModuleType:
    """A statistics module by its short name (``rates``; ``findings`` lives with the reports)."""
    room = "reporting" if name == "findings" else "stats"
    return importlib.import_module(f"aioa_analysis.{room}.{name}")


def _lib(module: str, name: str) -> Callable:
    return getattr(_module(module), name)


def _call(module: str, name: str, **kwargs: object) -> Callable[[pd.DataFrame, str], object]:
    """A statistic that is one library call ``module.name(contracts, as_of=..., **kwargs)``."""
    return lambda contracts, as_of: _lib(module, name)(contracts, as_of=as_of, **kwargs)


STATISTICS_MODULES = ("rates", "survival", "seasonality", "transitions", "diploma", "compare", "suppression")


def _import_statistics() -> None:
    """Import the statistics modules up front, so that no statistic's timing includes an import."""
    for name in STATISTICS_MODULES:
        with contextlib.suppress(ImportError):
            _module(name)


def _funnel(contracts: pd.DataFrame, as_of: str) -> object:
    rates = _lib("rates", "rupture_rate_within")(contracts, as_of=as_of, by="cfa")
    return _lib("compare", "funnel_data")(rates), _lib("compare", "chi_square_test")(rates)


def _suppressed_rates(contracts: pd.DataFrame, as_of: str) -> object:
    rates = _lib("rates", "rupture_rate_within")(contracts, as_of=as_of, by=["cohort", "sector"])
    return _lib("suppression", "suppress_rates")(rates, by=["cohort", "sector"])


#: The statistics the report needs: (name, function of (contracts, as_of)). A function that is not
#: there yet, or fails, is recorded as such and the step still runs the others.
STATISTICS: list[tuple[str, Callable[[pd.DataFrame, str], object]]] = [
    ("rates_9m_overall", _call("rates", "rupture_rate_within", by=None)),
    *[(f"rates_9m_{d}", _call("rates", "rupture_rate_within", by=d)) for d in RATE_DIMENSIONS],
    ("rates_9m_cohort_x_level", _call("rates", "rupture_rate_within", by=["cohort", "diploma_level"])),
    ("rates_9m_apprentice_unit", _call("rates", "rupture_rate_within", by="cohort", unit="apprentice")),
    ("suppression_cohort_x_sector", _suppressed_rates),
    ("km_by_cohort", _call("survival", "rupture_km", by="cohort")),
    ("whole_contract_by_cohort", _call("survival", "rupture_whole_contract", by="cohort")),
    ("logrank_by_cohort", _call("survival", "rupture_logrank", by="cohort")),
    ("phases", _call("rates", "rupture_phases", by=None)),
    ("phases_by_cohort", _call("rates", "rupture_phases", by="cohort")),
    ("monthly_hazard", _call("seasonality", "rupture_seasonality")),
    ("monthly_hazard_by_year_month", _call("seasonality", "rupture_seasonality", period="year_month")),
    ("summer_effect", _call("seasonality", "summer_effect")),
    ("recontract_rates", _call("transitions", "recontract_rates", by=None)),
    ("net_rupture_rates", _call("transitions", "net_rupture_rates", by="cohort")),
    ("time_to_new_contract", _call("transitions", "time_to_new_contract", by=None)),
    ("pass_rates_by_outcome_class", _call("diploma", "pass_rates_by_outcome_class", by=None)),
    ("rupture_rates_by_diploma_outcome", _call("diploma", "rupture_rates_by_diploma_outcome", by=None)),
    ("funnel_cfa_and_chi2", _funnel),
    ("indirect_standardisation_cfa", _call("compare", "indirect_standardisation", unit="cfa")),
]


def _timed(fn: Callable[[], T]) -> tuple[float, T]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def step_floor(path: Path, out: Path) -> dict:
    """Bare pyarrow read of the CSV then parquet write (the floor)."""
    t_read, df = _timed(lambda: pd.read_csv(path, engine="pyarrow"))
    t_write, _ = _timed(lambda: df.to_parquet(out))
    return {"rows": len(df), "read_s": t_read, "write_s": t_write, "parquet_mb": out.stat().st_size / 2**20}


def _rows(obj: object) -> int | None:
    if isinstance(obj, pd.DataFrame):
        return len(obj)
    if isinstance(obj, tuple | list):
        return sum(len(x) for x in obj if isinstance(x, pd.DataFrame)) or None
    return None


def step_stats(path: Path, as_of: str, *, only: list[str] | None = None) -> dict:
    """Every statistic of :data:`STATISTICS`, timed one by one on the clean table."""
    t_read, contracts = _timed(lambda: pd.read_parquet(path))
    t_import, _ = _timed(_import_statistics)
    parts: dict[str, dict] = {}
    for name, fn in STATISTICS:
        if only and name not in only:
            continue
        try:
            seconds, out = _timed(functools.partial(fn, contracts, as_of))
        except (ImportError, AttributeError) as exc:
            parts[name] = {"status": "missing", "message": f"{type(exc).__name__}: {exc}"[:300]}
            continue
        except Exception as exc:  # recorded; the other statistics still run
            parts[name] = {
                "status": "error",
                "message": f"{type(exc).__name__}: {exc}"[:300],
                "where": traceback.format_exc().splitlines()[-3:-1],
            }
            continue
        parts[name] = {"status": "ok", "seconds": seconds, "rows": _rows(out)}
    compute = sum(p.get("seconds", 0.0) for p in parts.values())
    return {
        "rows": len(contracts),
        "read_s": t_read,
        "import_s": t_import,
        "compute_s": compute,
        "parts": parts,
    }


#: Library modules whose public functions the report's statistics call (timed one by one).
_REPORT_MODULES = (
    "rates",
    "survival",
    "compare",
    "seasonality",
    "transitions",
    "diploma",
    "suppression",
    "findings",
)


def _timing_wrappers() -> tuple[dict[str, list[float]], Callable[[], None]]:
    """Wrap the public functions of the statistics modules with wall-clock timers.

    Only the outermost timed call counts (a statistic calling another is not counted twice).
    Returns the timings dict ``name -> [seconds, calls]`` and a function that removes the wrappers.
    """
    import inspect

    timings: dict[str, list[float]] = {}
    depth = [0]
    undo: list[tuple[object, str, object]] = []
    for mod_name in _REPORT_MODULES:
        try:
            mod = _module(mod_name)
        except ImportError:
            continue
        for name, fn in list(vars(mod).items()):
            if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != mod.__name__:
                continue

            @functools.wraps(fn)
            def timed(*a, __fn=fn, __key=f"{mod_name}.{name}", **k):
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

    _import_statistics()
    timings, restore = _timing_wrappers()
    try:
        seconds, ctx = _timed(lambda: reporting.prepare_report(data_file=str(path), as_of=as_of))
    finally:
        restore()
    parts = {k: {"status": "ok", "seconds": v[0], "calls": v[1]} for k, v in timings.items()}
    return {
        "rows": len(ctx.contracts),
        "prepare_s": seconds,
        "compute_s": sum(p["seconds"] for p in parts.values()),
        "n_results": len(dataclasses.fields(ctx.results)),
        "n_findings": len(ctx.findings),
        "parts": parts,
    }


def _wilson(k: np.ndarray, n: np.ndarray, z: float = 1.959963984540054) -> tuple[np.ndarray, np.ndarray]:
    p = k / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return centre - half, centre + half


def baseline_rates(
    contracts: pd.DataFrame, as_of: str, horizon_months: int = HORIZON_MONTHS
) -> dict[str, pd.DataFrame]:
    """The straightforward computation: eligible starts, broken within H months, groupby per dimension.

    Same definition as the library's headline rate: eligible when ``start + H months <= as_of``;
    broken when ``rupture_date < start + H months``, ``rupture_date <= as_of``, before the planned
    end and not after the diploma.

    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2024-01-10", "2024-01-10", "2025-09-01"]),
    ...     "planned_end_date": pd.to_datetime(["2026-01-09"] * 3),
    ...     "rupture_date": pd.to_datetime(["2024-03-01", None, None]),
    ...     "sex": ["F", "F", "M"],
    ... })
    >>> baseline_rates(df, "2025-06-30")["sex"][["n_contracts", "n_ruptures", "rate"]].to_dict("index")
    {'F': {'n_contracts': 2, 'n_ruptures': 1, 'rate': 0.5}}
    """
    ts = pd.Timestamp(as_of)
    start, rupt = contracts["start_date"], contracts["rupture_date"]
    end = start + pd.DateOffset(months=horizon_months)
    after = (
        contracts["rupture_after_diploma"].fillna(False).astype(bool)
        if "rupture_after_diploma" in contracts
        else False
    )
    broken = rupt.notna() & (rupt < end) & (rupt <= ts) & (rupt < contracts["planned_end_date"]) & ~after
    frame = contracts.assign(broken=broken, start_month=start.dt.month).loc[end <= ts]
    out: dict[str, pd.DataFrame] = {}
    for name, col in {"overall": None, **RATE_DIMENSIONS}.items():
        if col is not None and col not in frame:
            continue
        g = frame.groupby(col, observed=True)["broken"] if col else frame.groupby(lambda _: "all")["broken"]
        t = g.agg(n_contracts="size", n_ruptures="sum")
        t["rate"] = t["n_ruptures"] / t["n_contracts"]
        t["ci_low"], t["ci_high"] = _wilson(t["n_ruptures"].to_numpy(float), t["n_contracts"].to_numpy(float))
        t["suppressed"] = t["n_contracts"] < 20
        out[name] = t
    return out


def step_baseline(path: Path, as_of: str) -> dict:
    """Timed :func:`baseline_rates` on the clean table."""
    t_read, contracts = _timed(lambda: pd.read_parquet(path))
    seconds, tables = _timed(lambda: baseline_rates(contracts, as_of))
    return {
        "rows": len(contracts),
        "read_s": t_read,
        "compute_s": seconds,
        "dimensions": sorted(tables),
        "overall_rate": float(tables["overall"]["rate"].iloc[0]) if len(tables["overall"]) else None,
    }


def step_replicate(source: Path, out: Path, n: int) -> dict:
    """Stack copies of a clean contract table up to ``n`` rows, ids and apprentice keys made distinct.

    Used only when ``aioa clean`` could not build the table at size ``n``, so that the statistics
    can still be measured at that size (the result says so).
    """
    base = pd.read_parquet(source)
    copies = -(-n // len(base))
    parts = []
    for i in range(copies):
        part = (
            base
            if i == 0
            else base.assign(
                contract_id=base["contract_id"] + f"-r{i}", apprentice_key=base["apprentice_key"] + f"-r{i}"
            )
        )
        parts.append(part)
    table = pd.concat(parts, ignore_index=True).iloc[:n]
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(out)
    return {"rows": len(table), "source": str(source), "copies": copies}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.steps")
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("floor")
    p.add_argument("file", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument(
        "--tuned", action="store_true", help="with the process settings `aioa` gives itself (allocator)"
    )
    for name in ("stats", "stats_all", "baseline"):
        p = sub.add_parser(name)
        p.add_argument("contracts", type=Path)
        p.add_argument("--as-of", required=True)
        if name == "stats_all":
            p.add_argument("--only", default="", help="comma-separated statistic names")
    p = sub.add_parser("replicate")
    p.add_argument("source", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--n", type=int, required=True)
    args = parser.parse_args(argv)
    if args.step in ("stats", "stats_all", "baseline") or (args.step == "floor" and args.tuned):
        # as in a report kernel, which `aioa report` starts with these allocator settings (the floor
        # keeps the system's defaults: it is the bare pandas baseline, and `aioa clean` sets them
        # itself; `floor --tuned` is the same baseline given them, started with their environment)
        from aioa_analysis.core.allocator import tune_for_large_tables

        tune_for_large_tables()
    if args.step == "replicate":
        info = step_replicate(args.source, args.out, args.n)
    elif args.step == "floor":
        info = step_floor(args.file, args.out)
    elif args.step == "stats":
        info = step_report_stats(args.contracts, args.as_of)
    elif args.step == "stats_all":
        info = step_stats(args.contracts, args.as_of, only=[s for s in args.only.split(",") if s] or None)
    else:
        info = step_baseline(args.contracts, args.as_of)
    write_info(info)
    print({k: v for k, v in info.items() if k != "parts"})
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
