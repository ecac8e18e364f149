"""``aioa sample``: write the deterministic synthetic sample in the real input formats.

    aioa sample --out data/raw/sample --seed 41 [--years 4] [--contracts-per-year 3000]
                [--extraction-date 2025-11-30]

Same seed and arguments give byte-identical files (see docs/sample.md).
"""

from __future__ import annotations

import argparse
import logging

from aioa_analysis.core import config

log = logging.getLogger(__name__)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from exc


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sample`` subcommand."""
    p = subparsers.add_parser(
        "sample",
        help="écrire l'échantillon fictif (formats réels + vérité terrain)",
        description="Écrit l'échantillon fictif déterministe (extraction et API DECA, classeur du Tableau de "
        "bord, SIFA, tableur de chambre consulaire, résultats d'examen) et son _ground_truth.json. "
        "Mêmes graine et arguments : fichiers identiques octet pour octet.",
    )
    p.add_argument(
        "--out", default=None, help="dossier de sortie (défaut : data/raw/sample, ou $AIOA_SAMPLE_DIR)"
    )
    p.add_argument(
        "--seed", type=_int, default=41, help="graine aléatoire (défaut 41 : l'échantillon versionné)"
    )
    p.add_argument(
        "--years", type=_int, default=4, help="années scolaires, jusqu'à celle en cours (défaut 4)"
    )
    p.add_argument(
        "--contracts-per-year",
        type=_int,
        default=3000,
        help="nouveaux contrats par année scolaire complète (défaut 3000)",
    )
    p.add_argument(
        "--extraction-date",
        default="2025-11-30",
        help="date de l'extraction AAAA-MM-JJ (défaut 2025-11-30) ; fixe l'as_of des fichiers",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Generate the sample; print one summary line per file."""
    from aioa_analysis.sample import generate_sample

    out = args.out or config.sample_dir()
    truth = generate_sample(
        out,
        seed=args.seed,
        years=args.years,
        contracts_per_year=args.contracts_per_year,
        extraction_date=args.extraction_date,
    )
    total = 0
    for name, info in truth["files"].items():
        total += info["bytes"]
        log.info("%-40s %8d records %10d bytes", name, info["records"], info["bytes"])
    t = truth["truth"]
    log.info(
        "échantillon FICTIF écrit dans %s : %d contrats, %d ruptures, %d octets (seed %d)",
        out,
        t["n_contracts"],
        t["n_ruptures"],
        total,
        args.seed,
    )
    return 0
