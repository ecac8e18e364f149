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
from aioa_analysis.ingest.pipeline import MAX_SHRINK, run_clean, summary_lines


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
    p.add_argument(
        "--allow-shrink",
        action="store_true",
        help="accepter une table vide ou bien plus petite que celle de l'exécution précédente",
    )
    p.add_argument(
        "--max-shrink",
        type=_share,
        default=MAX_SHRINK,
        metavar="PART",
        help=f"part des contrats de l'exécution précédente qu'une exécution peut perdre (défaut {MAX_SHRINK})",
    )
    p.add_argument(
        "--new-key",
        action="store_true",
        help="créer une nouvelle clé de pseudonymisation (tous les pseudonymes changent) : à dessein seulement",
    )
    p.add_argument(
        "--insecure-key",
        action="store_true",
        help="accepter une clé lisible par d'autres que son propriétaire",
    )
    p.set_defaults(handler=run)


def _share(text: str) -> float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"--max-shrink {text!r} must be a share between 0 and 1, e.g. 0.5")
    return value


def run(args: argparse.Namespace) -> int:
    """Run the pipeline and print a one-screen summary; errors propagate as AioaError (exit 2)."""
    out_dir = config.check_shared_place(args.out) if args.out else None
    result = run_clean(
        args.inputs or None,
        out_dir=out_dir,
        as_of=args.as_of,
        source=args.source,
        new_key=args.new_key,
        insecure_key=args.insecure_key,
        allow_shrink=args.allow_shrink,
        max_shrink=args.max_shrink,
    )
    if result.sample_used:
        bar = "!" * 78
        sys.stderr.write(
            f"{bar}\n!! AUCUN FICHIER RÉEL : nettoyage de l'ÉCHANTILLON SYNTHÉTIQUE ({config.sample_dir()})\n"
            f"!! Les chiffres produits ne décrivent PAS le Loir-et-Cher. Déposez vos exports dans data/raw/.\n{bar}\n"
        )
    print("\n".join(summary_lines(result)))
    return 0
