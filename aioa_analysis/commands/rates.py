"""``aioa rates``: print the rupture rate within H months by the chosen dimensions.

    aioa rates --data FILE --by DIM[,DIM...] --as-of YYYY-MM-DD [--horizon-months N] [--min-n N]
               [--unit contract|apprentice] [--format csv|json] [--measure within_horizon|whole_contract]

Prints the table of :func:`aioa_analysis.stats.rates.rupture_rate_within` to stdout, with the primary and
secondary suppression of :func:`aioa_analysis.stats.suppression.suppress_rates` as the columns
``suppressed`` / ``suppression_reason`` (values are kept: the table is for the working group).
Groups with no contract observed for the horizon yet (``n_contracts`` = 0, e.g. the current
cohort) are kept, flagged ``"non observable"``; they hide nothing and never trigger secondary
suppression (the report drops them). Rows are in the natural order of the dimensions
(:func:`aioa_analysis.stats.dimensions.sort_by_dimensions`: size bands, age bands, levels, cohorts in
order, ``inconnu`` last).

``--measure whole_contract`` prints instead the share broken before the planned end, estimated as a
cumulative incidence with completion competing (:func:`aioa_analysis.stats.competing.whole_contract_rates`,
Aalen-Johansen): the same columns plus ``estimator`` and the curve's stopping point.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

from aioa_analysis.core import config
from aioa_analysis.core.errors import InputFileError, ParameterError
from aioa_analysis.core.safe import neutralise_frame
from aioa_analysis.stats.dimensions import parse_dimensions, sort_by_dimensions, valid_dimensions
from aioa_analysis.stats.rates import DEFAULT_HORIZON_MONTHS, MAX_HORIZON_MONTHS, UNITS, rupture_rate_within
from aioa_analysis.stats.suppression import suppress_rates

FORMATS = ("csv", "json")
MEASURES = ("within_horizon", "whole_contract")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``rates`` subcommand."""
    p = subparsers.add_parser(
        "rates",
        help="taux de rupture à H mois par dimension (tableau sur la sortie standard)",
        description="Affiche la part des contrats rompus dans les H mois suivant leur début, par dimension.",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help="table des contrats nettoyée (défaut : <dossier processed>/contracts.parquet, écrite par `aioa clean`)",
    )
    p.add_argument(
        "--by",
        default="",
        help=f"dimensions séparées par des virgules parmi : {', '.join(valid_dimensions())} (défaut : overall)",
    )
    p.add_argument("--as-of", dest="as_of", required=True, help="date d'observation AAAA-MM-JJ (obligatoire)")
    p.add_argument(
        "--horizon-months",
        dest="horizon_months",
        type=int,
        default=DEFAULT_HORIZON_MONTHS,
        help="horizon H en mois (défaut 9, l'indicateur de la DARES)",
    )
    p.add_argument(
        "--min-n", dest="min_n", type=int, default=20, help="plus petit dénominateur affiché (défaut 20)"
    )
    p.add_argument(
        "--unit", choices=UNITS, default="contract", help="compter les contrats (défaut) ou les apprentis"
    )
    p.add_argument(
        "--format", dest="fmt", choices=FORMATS, default="csv", help="format de sortie (défaut csv)"
    )
    p.add_argument(
        "--measure",
        choices=MEASURES,
        default="within_horizon",
        help="within_horizon : rompus dans les H mois (défaut) ; whole_contract : rompus avant la fin prévue "
        "(Aalen-Johansen, la fin normale en risque concurrent)",
    )
    p.set_defaults(handler=run)


def parse_date(value: str) -> pd.Timestamp:
    text = (value or "").strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ParameterError(
            f"--as-of {value!r} is not a date", hint="use the form YYYY-MM-DD, e.g. 2025-06-30"
        )
    try:
        return pd.Timestamp(text)
    except ValueError as exc:
        raise ParameterError(
            f"--as-of {value!r} is not a valid date", hint="use the form YYYY-MM-DD, e.g. 2025-06-30"
        ) from exc


def load_contracts(data: str | Path | None) -> pd.DataFrame:
    """The clean contract table of ``--data`` (default ``<processed>/contracts.parquet``; a CSV is
    typed first), validated: what ``rates``, ``vigilance`` and ``forecast`` read."""
    from aioa_analysis.core.schema import coerce_contracts, validate_contracts

    path = Path(data) if data is not None else config.processed_dir() / "contracts.parquet"
    contracts = _read_contracts(path)
    if "start_date" in contracts and not pd.api.types.is_datetime64_any_dtype(contracts["start_date"]):
        contracts = coerce_contracts(contracts)
    validate_contracts(contracts)
    return contracts


def _read_contracts(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputFileError(
            f"contract table {path} not found", hint="run `aioa clean` first (or pass --data FILE)"
        )
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False).replace("", pd.NA)
        return pd.read_parquet(path)
    except Exception as exc:
        raise InputFileError(
            f"contract table {path} cannot be read ({type(exc).__name__})",
            hint="rebuild it with `aioa clean`",
        ) from exc


def _format(table: pd.DataFrame, fmt: str) -> str:
    out = table.assign(as_of=table["as_of"].dt.strftime("%Y-%m-%d"))
    if fmt == "json":
        return out.to_json(orient="records", force_ascii=False, indent=1) + "\n"
    return neutralise_frame(out).to_csv(index=False, lineterminator="\n")


def run(args: argparse.Namespace) -> int:
    """Compute and print the rate table; return the exit code."""
    names = parse_dimensions(args.by)
    as_of = parse_date(args.as_of)
    if not 1 <= args.horizon_months <= MAX_HORIZON_MONTHS:
        raise ParameterError(
            f"--horizon-months {args.horizon_months} must be from 1 to {MAX_HORIZON_MONTHS}", hint="e.g. 9"
        )
    if args.min_n < 0:
        raise ParameterError(f"--min-n {args.min_n} must be 0 or more", hint="e.g. 20")
    contracts = load_contracts(args.data)
    if getattr(args, "measure", "within_horizon") == "whole_contract":
        from aioa_analysis.stats.competing import whole_contract_rates

        table = whole_contract_rates(contracts, as_of=as_of, by=names, unit=args.unit, min_n=args.min_n)
        table = sort_by_dimensions(suppress_rates(table, by=names, min_n=args.min_n), names)
        sys.stdout.write(_format(table, args.fmt))
        return 0
    table = rupture_rate_within(
        contracts,
        as_of=as_of,
        by=names,
        horizon_months=args.horizon_months,
        unit=args.unit,
        min_n=args.min_n,
    )
    table = sort_by_dimensions(suppress_rates(table, by=names, min_n=args.min_n), names)
    sys.stdout.write(_format(table, args.fmt))
    return 0
