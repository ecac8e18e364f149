"""``aioa forecast``: expected ruptures per month for the months after ``as_of`` (mediation workload).

    aioa forecast --data FILE --as-of YYYY-MM-DD [--months N] [--by territory|cfa]
                  [--format csv|json] [--backtest]

Prints :func:`aioa_analysis.stats.forecast.forecast_ruptures` to stdout: ``month``, the group
column with ``--by`` (``territory`` or ``cfa``), ``expected``, ``pi_low``, ``pi_high`` (90 %
prediction interval), ``from_running`` and ``from_new_starts``. ``--backtest`` prints instead the
same forecast made ``--months`` months before ``as_of`` beside the ruptures observed since
(:func:`~aioa_analysis.stats.forecast.backtest`: plus ``observed``, ``inside``), and its summary on
stderr. Expected counts are rounded to 0.1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from aioa_analysis.commands.rates import FORMATS, load_contracts, parse_date
from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.safe import neutralise_frame
from aioa_analysis.stats.forecast import (
    BY_CHOICES,
    DEFAULT_MONTHS,
    backtest,
    backtest_summary,
    forecast_ruptures,
)

ROUNDED = ("expected", "from_running", "from_new_starts")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``forecast`` subcommand."""
    p = subparsers.add_parser(
        "forecast",
        help="ruptures attendues par mois après la date d'observation (charge de la médiation)",
        description="Affiche le nombre de ruptures attendues chaque mois après --as-of (contrats en cours "
        "et entrées attendues), avec un intervalle de prévision à 90 %%.",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help="table des contrats nettoyée (défaut : <dossier processed>/contracts.parquet)",
    )
    p.add_argument("--as-of", dest="as_of", required=True, help="date d'observation AAAA-MM-JJ (obligatoire)")
    p.add_argument(
        "--months", type=int, default=DEFAULT_MONTHS, help=f"mois prévus (défaut {DEFAULT_MONTHS})"
    )
    p.add_argument("--by", choices=BY_CHOICES, default=None, help="par territoire ou par CFA")
    p.add_argument(
        "--format", dest="fmt", choices=FORMATS, default="csv", help="format de sortie (défaut csv)"
    )
    p.add_argument(
        "--backtest",
        action="store_true",
        help="la même prévision faite --months mois avant --as-of, à côté des ruptures observées depuis",
    )
    p.set_defaults(handler=run)


def _format(table: pd.DataFrame, fmt: str) -> str:
    out = table.assign(**{c: table[c].round(1) for c in ROUNDED if c in table})
    if fmt == "json":
        return out.to_json(orient="records", force_ascii=False, indent=1) + "\n"
    return neutralise_frame(out).to_csv(index=False, lineterminator="\n")


def run(args: argparse.Namespace) -> int:
    """Compute and print the forecast (or its backtest); return the exit code."""
    as_of = parse_date(args.as_of)
    if not 1 <= args.months <= 60:
        raise ParameterError(f"--months {args.months} must be from 1 to 60", hint="e.g. 12")
    contracts = load_contracts(args.data)
    if args.backtest:
        table = backtest(contracts, as_of=as_of, months=args.months, by=args.by)
        summary = backtest_summary(table)
        sys.stderr.write(
            f"rétro-prévision depuis le {summary['cut']} : {summary['inside']} mois sur {summary['months']} "
            f"dans l'intervalle ; total attendu {summary['expected_total']}, observé {summary['observed_total']}\n"
        )
    else:
        table = forecast_ruptures(contracts, as_of=as_of, months=args.months, by=args.by)
    sys.stdout.write(_format(table, args.fmt))
    return 0
