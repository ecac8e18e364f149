"""``aioa vigilance``: print the points de vigilance, one tested finding per record.

    aioa vigilance --data FILE --as-of YYYY-MM-DD [--cfa UAI] [--format csv|json]
                   [--level 0.05] [--method holm|bh]

Prints :func:`aioa_analysis.stats.vigilance.vigilance_findings` to stdout: ``kind``, ``dimension``,
``group``, ``direction``, ``value``, ``ci_low``, ``ci_high``, ``reference``, ``p_value``, ``q_value``
(adjusted p-value), ``alert``, ``sentence``. JSON is a list of objects; CSV has that header.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from aioa_analysis.commands.rates import FORMATS, load_contracts, parse_date
from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.safe import neutralise_frame
from aioa_analysis.stats.vigilance import ADJUSTMENTS, vigilance_findings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``vigilance`` subcommand."""
    p = subparsers.add_parser(
        "vigilance",
        help="points de vigilance testés (CFA à profil égal, secteurs, niveaux, été)",
        description="Affiche les constats des points de vigilance, chacun testé, avec p-values ajustées "
        "sur l'ensemble des constats.",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help="table des contrats nettoyée (défaut : <dossier processed>/contracts.parquet)",
    )
    p.add_argument("--as-of", dest="as_of", required=True, help="date d'observation AAAA-MM-JJ (obligatoire)")
    p.add_argument("--cfa", default=None, help="UAI d'un CFA : ses constats et ceux du département")
    p.add_argument("--level", type=float, default=0.05, help="seuil des alertes (défaut 0,05)")
    p.add_argument(
        "--method",
        choices=tuple(ADJUSTMENTS),
        default="holm",
        help="ajustement : holm (erreur sur l'ensemble, défaut) ou bh (taux de fausses découvertes)",
    )
    p.add_argument(
        "--format", dest="fmt", choices=FORMATS, default="csv", help="format de sortie (défaut csv)"
    )
    p.set_defaults(handler=run)


def _format(table: pd.DataFrame, fmt: str) -> str:
    if fmt == "json":
        return table.to_json(orient="records", force_ascii=False, indent=1) + "\n"
    return neutralise_frame(table).to_csv(index=False, lineterminator="\n")


def run(args: argparse.Namespace) -> int:
    """Compute and print the findings; return the exit code."""
    as_of = parse_date(args.as_of)
    if not 0 < args.level < 1:
        raise ParameterError(f"--level {args.level} must be between 0 and 1", hint="e.g. 0.05")
    contracts = load_contracts(args.data)
    table = vigilance_findings(contracts, as_of=as_of, cfa=args.cfa, level=args.level, method=args.method)
    sys.stdout.write(_format(table, args.fmt))
    return 0
