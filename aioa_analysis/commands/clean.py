"""``aioa clean``: read the exports, write the clean pseudonymised contract table.

    aioa clean [INPUT ...] [--out DIR] [--as-of YYYY-MM-DD] [--source NAME]

Without INPUT: the real files in ``data/raw/`` (top-level files), else the synthetic sample in
``data/raw/sample/`` (said loudly on stderr). Writes ``contracts.parquet``, ``exam_results.parquet``
(when an exam-results file is given), ``rejected.csv``, ``conflicts.csv`` and ``quality.json`` into
``--out`` (default ``data/processed/``), all together or not at all, and the identity store into the
restricted folder. See :mod:`aioa_analysis.ingest.pipeline`.
"""

from __future__ import annotations

import argparse
import sys

from aioa_analysis.core import config
from aioa_analysis.core.schema import SOURCES
from aioa_analysis.ingest.pipeline import run_clean, summary_lines


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``clean`` subcommand."""
    p = subparsers.add_parser(
        "clean",
        help="lire les exports et écrire la table des contrats nettoyée et pseudonymisée",
        description=(
            "Lit les fichiers d'entrée et écrit une seule table des contrats, nettoyée et pseudonymisée ; "
            "chaque ligne lue est comptée (propre, fusionnée ou rejetée avec son motif)."
        ),
    )
    p.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="fichiers ou dossiers d'entrée (défaut : les fichiers de data/raw/, sinon l'échantillon fictif)",
    )
    p.add_argument("--out", default=None, help="dossier de sortie (défaut : data/processed/)")
    p.add_argument(
        "--as-of",
        dest="as_of",
        default=None,
        help="date d'observation AAAA-MM-JJ (défaut : l'horodatage d'extraction d'un nom de fichier, sinon la date du dernier événement)",
    )
    p.add_argument(
        "--source",
        choices=SOURCES,
        default=None,
        help="impose le profil de tous les fichiers au lieu de le détecter",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the pipeline and print a one-screen summary; errors propagate as AioaError (exit 2)."""
    out_dir = config.check_shared_place(args.out) if args.out else None
    result = run_clean(args.inputs or None, out_dir=out_dir, as_of=args.as_of, source=args.source)
    if result.sample_used:
        bar = "!" * 78
        sys.stderr.write(
            f"{bar}\n!! AUCUN FICHIER RÉEL : nettoyage de l'ÉCHANTILLON SYNTHÉTIQUE ({config.sample_dir()})\n"
            f"!! Les chiffres produits ne décrivent PAS le Loir-et-Cher. Déposez vos exports dans data/raw/.\n{bar}\n"
        )
    print("\n".join(summary_lines(result)))
    return 0
